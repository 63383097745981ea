/// <reference types="node" />
/**
 * The softphone's load (issue #14): a fresh build (into a temporary folder, so web/dist is left to
 * whatever serves it) keeps its initial JavaScript within 40 KB gzipped, with mediasoup-client, the
 * meetings and the admin console loaded on demand; every asset name carries a content hash, cached
 * for good, and index.html is revalidated. `npm run size:web` prints the same figures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundleReport, formatReport, INITIAL_JS_BUDGET, type BundleReport } from '../scripts/bundleSize.ts';

const WEB = fileURLToPath(new URL('..', import.meta.url));

describe('the web bundle', () => {
  let dist = '';
  let report: BundleReport;
  before(() => {
    dist = mkdtempSync(join(tmpdir(), 'callstack-web-'));
    const build = spawnSync(process.execPath, [join(WEB, 'build.mjs'), '--outdir', dist, '--quiet'], { encoding: 'utf8' });
    assert.equal(build.status, 0, `web build failed:\n${build.stdout}${build.stderr}`);
    report = bundleReport(dist);
  });
  after(() => rmSync(dist, { recursive: true, force: true }));

  test('loads at most 40 KB of JavaScript, gzipped, before the first screen', () => {
    assert.ok(report.initialGzip <= INITIAL_JS_BUDGET, `the initial JavaScript is over its budget:\n${formatReport(report)}`);
  });

  test('fetches mediasoup-client, the meetings and the admin console only when they are opened', () => {
    const initialSources = report.initial.flatMap((file) => file.inputs);
    for (const source of [
      'mediasoup-client/',
      'src/components/RoomView.tsx',
      'src/components/Meetings.tsx',
      'src/conference/Conference.ts',
      'src/components/admin/',
    ]) {
      // The contacts' delete button borrows the console's Confirm step.
      const found = initialSources.filter((input) => input.includes(source) && input !== 'src/components/admin/Confirm.tsx');
      assert.deepEqual(found, [], `${source} is in the initial JavaScript`);
    }
    const onDemand = new Map(report.onDemand.map((item) => [item.source, item.files.flatMap((file) => file.inputs)]));
    assert.ok(
      onDemand.get('src/screens/meetings.ts')?.some((input) => input.includes('mediasoup-client/')),
      'the meetings bring mediasoup-client',
    );
    assert.ok(onDemand.get('src/screens/admin.ts')?.includes('src/components/admin/AdminConsole.tsx'), 'the admin console is a chunk of its own');
    assert.ok(
      onDemand.get('src/conference/Conference.ts')?.some((input) => input.includes('mediasoup-client/')),
      'a recorded call fetches the conference module',
    );
  });

  test('index.html loads the hashed entry and stylesheet, and preloads the chunks the entry imports', () => {
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    const script = /<script type="module" src="(\/main-[A-Z0-9]{8}\.js)"><\/script>/.exec(html)?.[1];
    const style = /<link rel="stylesheet" href="(\/styles-[A-Z0-9]{8}\.css)" \/>/.exec(html)?.[1];
    assert.ok(script && style, html);
    for (const path of [script, style]) assert.ok(existsSync(join(dist, path)), `${path} is not in the build`);
    const preloads = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)" \/>/g)].map((match) => match[1]);
    assert.deepEqual(
      preloads.sort(),
      report.initial
        .map((file) => file.path)
        .filter((path) => path !== script)
        .sort(),
    );
  });

  test('caches hashed assets for a year and revalidates every other path, keeping the security headers', () => {
    const headers = readFileSync(join(dist, '_headers'), 'utf8');
    const rules = new Map(
      headers
        .split(/^(?=\/)/m)
        .filter((block) => block.startsWith('/'))
        .map((block) => [block.slice(0, block.indexOf('\n')), block.slice(block.indexOf('\n') + 1)]),
    );
    const everyPath = rules.get('/*') ?? '';
    assert.ok(headers.includes(readFileSync(join(WEB, '_headers'), 'utf8').trimEnd()), 'web/_headers is copied as it is');
    assert.match(everyPath, /^ {2}cache-control: no-cache$/m);
    const assets = [...report.initial, ...report.onDemand.flatMap((item) => item.files), ...report.styles].map((file) => file.path);
    assert.ok(assets.length > 3);
    for (const path of assets) {
      assert.match(path, /-[A-Z0-9]{8}\.(js|css)$/, `${path} has no content hash`);
      assert.equal(rules.get(path), '  ! cache-control\n  cache-control: public, max-age=31536000, immutable\n', `${path}'s rule`);
    }
    assert.ok(!rules.has('/index.html') && !rules.has('/'), 'index.html only has the rule of every path');
  });
});

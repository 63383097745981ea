import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { claimTestFiles, findTestFiles } from './testFiles.ts';

const root = mkdtempSync(join(tmpdir(), 'test-files-'));
after(() => rmSync(root, { recursive: true, force: true }));

function touch(...paths: string[]): void {
  for (const path of paths) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
  }
}

touch(
  'web/src/call.test.ts',
  'web/src/call.ts',
  'web/src/a/b/c/deep.test.ts',
  'web/src/Panel.test.tsx',
  'edge/test/auth.test.ts',
  'edge/src/misplaced.test.ts',
  'node_modules/pkg/index.test.ts',
  'media-fleet/node_modules/pkg/x.test.ts',
  'web/dist/bundle.test.ts',
  '.tmp/test/old.test.ts',
  '.data/x.test.ts',
  'tests/e2e/call.test.ts',
);

test('finds test files at any depth, skipping dependencies, build output and run state', () => {
  assert.deepEqual(findTestFiles(root), [
    'edge/src/misplaced.test.ts',
    'edge/test/auth.test.ts',
    'tests/e2e/call.test.ts',
    'web/src/Panel.test.tsx',
    'web/src/a/b/c/deep.test.ts',
    'web/src/call.test.ts',
  ]);
  assert.deepEqual(findTestFiles(root, 'web/src/a'), ['web/src/a/b/c/deep.test.ts']);
});

test('each file goes to the one suite whose folder holds it; the rest are problems naming them', () => {
  const claims = claimTestFiles(findTestFiles(root), { web: ['web/src'], edge: ['edge/test'], e2e: ['tests/e2e'], protocol: ['protocol/src'] });
  assert.deepEqual(Object.fromEntries(claims.bySuite), {
    web: ['web/src/a/b/c/deep.test.ts', 'web/src/call.test.ts'],
    edge: ['edge/test/auth.test.ts'],
    e2e: ['tests/e2e/call.test.ts'],
    protocol: [],
  });
  assert.equal(claims.problems.length, 2);
  assert.match(claims.problems[0]!, /^edge\/src\/misplaced\.test\.ts: not run; it is in no suite's folder/);
  assert.match(claims.problems[1]!, /^web\/src\/Panel\.test\.tsx: not run; name test files <name>\.test\.ts/);
});

test('a folder is matched whole, not as a prefix of another name', () => {
  const claims = claimTestFiles(['web/srcs/x.test.ts'], { web: ['web/src'] });
  assert.deepEqual(claims.bySuite.get('web'), []);
  assert.equal(claims.problems.length, 1);
});

test('a file under two suites belongs to neither', () => {
  const claims = claimTestFiles(['scripts/lib/x.test.ts'], { scripts: ['scripts'], lib: ['scripts/lib'] });
  assert.deepEqual(Object.fromEntries(claims.bySuite), { scripts: [], lib: [] });
  assert.deepEqual(claims.problems, ['scripts/lib/x.test.ts: claimed by several suites (scripts, lib); each file belongs to one']);
});

// Bundles the softphone into web/dist (the Worker's static assets). `--watch` rebuilds on change;
// `--outdir <dir>` builds into another folder (the bundle budget test builds into a temporary one);
// `--quiet` prints warnings and errors only.
//
// Code splitting: `import()` targets (the meeting view with mediasoup-client, the admin console)
// become chunks of their own, fetched when first shown. Every asset name carries a content hash,
// so assets are cached for good; index.html (written from the template ./index.html with the hashed
// names) and every other path are revalidated on each load (the `_headers` written here).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const watch = args.includes('--watch');
const outdirAt = args.indexOf('--outdir');
const dist = outdirAt >= 0 && args[outdirAt + 1] ? resolve(args[outdirAt + 1]) : join(root, 'dist');

/** The build's esbuild metafile, beside the assets (read by scripts/bundleSize.ts; `.assetsignore` keeps it off the site). */
const METAFILE = 'metafile.json';
/** Cloudflare's limit on `_headers` rules (more are ignored with a warning). */
const MAX_HEADER_RULES = 100;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: ['src/main.tsx', 'src/styles.css'],
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  entryNames: '[name]-[hash]',
  chunkNames: 'chunks/[name]-[hash]',
  assetNames: 'assets/[name]-[hash]',
  metafile: true,
  logLevel: args.includes('--quiet') ? 'warning' : 'info',
  plugins: [
    protocolWithoutSideEffects(),
    { name: 'site', setup: (build) => build.onEnd((result) => (result.errors.length || !result.metafile ? undefined : writeSite(result.metafile))) },
  ],
};

/**
 * `@callstack/protocol`'s modules only declare schemas, types and helpers: importing one runs
 * nothing. Said to esbuild (as `"sideEffects": false` in protocol/package.json would), it leaves
 * out the modules whose exports the app never uses (billing, SIP, the media fleet's).
 */
function protocolWithoutSideEffects() {
  const protocolSrc = join(root, '..', 'protocol', 'src') + sep;
  return {
    name: 'protocol-without-side-effects',
    setup(build) {
      build.onResolve({ filter: /^(@callstack\/protocol$|\.\.?\/)/ }, async (args) => {
        if (args.pluginData === 'resolving' || (args.path.startsWith('.') && !args.importer.startsWith(protocolSrc))) return undefined;
        const { kind, importer, resolveDir } = args;
        const resolved = await build.resolve(args.path, { kind, importer, resolveDir, pluginData: 'resolving' });
        if (resolved.errors.length || !resolved.path.startsWith(protocolSrc)) return undefined;
        return { path: resolved.path, namespace: resolved.namespace, sideEffects: false };
      });
    },
  };
}

/** The files beside the bundle: index.html with the hashed names, `_headers`, the metafile; stale assets removed. */
async function writeSite(metafile) {
  const outputs = Object.entries(metafile.outputs).map(([file, output]) => ({ path: servedPath(file), output }));
  const entry = (source) => {
    const found = outputs.find(({ output }) => output.entryPoint === source);
    if (!found) throw new Error(`build: no output for ${source}`);
    return found;
  };
  const main = entry('src/main.tsx');
  const styles = entry('src/styles.css');
  // The entry's static imports (shared chunks) start downloading with it rather than after it.
  const preloads = main.output.imports.filter((item) => item.kind === 'import-statement').map((item) => servedPath(item.path));

  const template = await readFile(join(root, 'index.html'), 'utf8');
  const html = substitute(substitute(template, 'href="/styles.css"', `href="${styles.path}"`), 'src="/main.js"', `src="${main.path}"`).replace(
    '    <script type="module"',
    `${preloads.map((path) => `    <link rel="modulepreload" href="${path}" />\n`).join('')}    <script type="module"`,
  );
  await writeFile(join(dist, 'index.html'), html);
  await writeFile(join(dist, '_headers'), headersFile(await readFile(join(root, '_headers'), 'utf8'), outputs));
  await writeFile(join(dist, METAFILE), JSON.stringify(metafile));
  await writeFile(join(dist, '.assetsignore'), `/${METAFILE}\n`);

  // A rebuild (--watch) leaves the previous hashes behind: only this build's files stay.
  const keep = new Set([...outputs.map(({ path }) => path), '/index.html', '/_headers', `/${METAFILE}`, '/.assetsignore']);
  for (const file of await readdir(dist, { recursive: true, withFileTypes: true })) {
    const absolute = join(file.parentPath, file.name);
    if (file.isFile() && !keep.has(servedPath(absolute))) await rm(absolute);
  }
}

/** `dist/chunks/x.js` (relative to this folder, as the metafile names outputs, or absolute) → `/chunks/x.js`. */
function servedPath(file) {
  return `/${relative(dist, resolve(root, file)).split(sep).join('/')}`;
}

function substitute(text, from, to) {
  if (!text.includes(from)) throw new Error(`build: index.html should contain ${from}`);
  return text.replace(from, to);
}

/**
 * `web/_headers` (the security headers of every path, held equal to the edge's by a test) plus
 * caching: `no-cache` on every path (index.html at `/`, `/index.html` and the deep links the
 * single-page fallback answers with it), and a year, immutable, on each hashed script and
 * stylesheet of this build, named one by one so that a missing asset, answered by the fallback with
 * index.html, is never cached for good. A second `/*` rule would replace the first, so the
 * `cache-control` line joins that one; `! cache-control` then drops it on the hashed files.
 */
function headersFile(securityHeaders, outputs) {
  const rules = securityHeaders.split('\n').filter((line) => line.startsWith('/'));
  if (rules.length !== 1 || !securityHeaders.startsWith('/*\n')) throw new Error('build: web/_headers should hold one rule, for /*');
  const hashed = outputs.map(({ path }) => path).filter((path) => /\.(js|css)$/.test(path));
  if (hashed.length + 1 > MAX_HEADER_RULES) throw new Error(`build: ${hashed.length + 1} header rules, over Cloudflare's ${MAX_HEADER_RULES}`);
  return [
    '# Written by web/build.mjs from web/_headers: security headers on every path, and caching.',
    `${securityHeaders.trimEnd()}\n  cache-control: no-cache`,
    '# Content-hashed: the name changes with the content.',
    ...hashed.map((path) => `${path}\n  ! cache-control\n  cache-control: ${IMMUTABLE}`),
    '',
  ].join('\n');
}

// Start clean so no stale asset is ever deployed.
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}

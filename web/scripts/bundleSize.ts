/// <reference types="node" />
/**
 * The web bundle's sizes, from the metafile the build leaves beside the assets: the initial
 * JavaScript (the entry and every chunk it imports statically, what the first page load runs),
 * what each on-demand screen adds when first shown, and the stylesheet; raw and gzipped (zlib
 * level 9, file by file, as they travel). Exits 1 when the initial JavaScript gzipped is over the
 * budget, 2 when there is no build to measure.
 *
 *   npm run size:web                                  # builds, then prints the table
 *   node --import tsx web/scripts/bundleSize.ts [dist]  # measures an existing build (default web/dist)
 *
 * `src/bundleBudget.test.ts` holds the same budget in `npm test`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The initial JavaScript, gzipped, may not grow past 40 KB (issue #14). */
export const INITIAL_JS_BUDGET = 40 * 1024;
/** The build's metafile, in the output folder (web/build.mjs). */
export const METAFILE = 'metafile.json';
/** This workspace (web/): the build's working directory, which the metafile's paths are relative to. */
const WEB_ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Metafile {
  outputs: Record<string, { bytes: number; entryPoint?: string; imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
}

export interface FileSize {
  /** As served: `/chunks/chunk-AB12CD34.js`. */
  path: string;
  raw: number;
  gzip: number;
  /** The sources bundled into it (relative to web/). */
  inputs: string[];
}

export interface OnDemand {
  /** The module `import()` names (`src/screens/meetings.ts`). */
  source: string;
  /** The files its first use fetches beyond the initial ones: its own and its chunks. */
  files: FileSize[];
  raw: number;
  gzip: number;
}

export interface BundleReport {
  initial: FileSize[];
  initialRaw: number;
  initialGzip: number;
  onDemand: OnDemand[];
  styles: FileSize[];
}

/** Measures the build in `dist` (its metafile and files). */
export function bundleReport(dist: string): BundleReport {
  const metafile = JSON.parse(readFileSync(resolve(dist, METAFILE), 'utf8')) as Metafile;
  const outputs = metafile.outputs;
  const sizes = new Map<string, FileSize>();
  const sizeOf = (key: string): FileSize => {
    let size = sizes.get(key);
    if (!size) {
      const bytes = readFileSync(resolve(WEB_ROOT, key));
      const path = `/${relative(dist, resolve(WEB_ROOT, key)).split(sep).join('/')}`;
      size = { path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, inputs: Object.keys(outputs[key]?.inputs ?? {}) };
      sizes.set(key, size);
    }
    return size;
  };
  /** `key` and the outputs it imports statically, at any depth. */
  const closure = (key: string, into = new Set<string>()): Set<string> => {
    if (into.has(key)) return into;
    into.add(key);
    for (const item of outputs[key]?.imports ?? []) if (item.kind === 'import-statement') closure(item.path, into);
    return into;
  };
  const entryOf = (source: string): string => {
    const key = Object.keys(outputs).find((each) => outputs[each]!.entryPoint === source);
    if (!key) throw new Error(`${METAFILE} has no output for ${source}`);
    return key;
  };

  const initialKeys = closure(entryOf('src/main.tsx'));
  const initial = [...initialKeys].map(sizeOf);
  const dynamicKeys = new Set(
    Object.values(outputs).flatMap((output) => output.imports.filter((item) => item.kind === 'dynamic-import').map((item) => item.path)),
  );
  const onDemand = [...dynamicKeys].map((key) => {
    const files = [...closure(key)].filter((each) => !initialKeys.has(each)).map(sizeOf);
    return { source: outputs[key]?.entryPoint ?? key, files, raw: sum(files, 'raw'), gzip: sum(files, 'gzip') };
  });
  const styles = Object.keys(outputs)
    .filter((key) => key.endsWith('.css'))
    .map(sizeOf);
  return { initial, initialRaw: sum(initial, 'raw'), initialGzip: sum(initial, 'gzip'), onDemand, styles };
}

function sum(files: FileSize[], field: 'raw' | 'gzip'): number {
  return files.reduce((total, file) => total + file[field], 0);
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The report as a table, with the budget's verdict on its last line. */
export function formatReport(report: BundleReport): string {
  const width = Math.max(40, ...[...report.initial, ...report.onDemand.flatMap((item) => item.files), ...report.styles].map((file) => file.path.length + 4));
  const row = (name: string, raw: number, gzip: number) => `${name.padEnd(width)}${kib(raw).padStart(12)}${kib(gzip).padStart(12)}`;
  const lines = [`${'web bundle'.padEnd(width)}${'raw'.padStart(12)}${'gzip -9'.padStart(12)}`];
  lines.push('initial JavaScript (entry + static imports)');
  for (const file of report.initial) lines.push(row(`  ${file.path}`, file.raw, file.gzip));
  lines.push(row('  total', report.initialRaw, report.initialGzip));
  lines.push('on demand (what the first use adds)');
  for (const item of [...report.onDemand].sort((a, b) => b.gzip - a.gzip)) {
    lines.push(row(`  ${item.source}`, item.raw, item.gzip));
    for (const file of item.files) lines.push(row(`    ${file.path}`, file.raw, file.gzip));
  }
  lines.push('styles');
  for (const file of report.styles) lines.push(row(`  ${file.path}`, file.raw, file.gzip));
  const share = Math.round((report.initialGzip / INITIAL_JS_BUDGET) * 100);
  const verdict = report.initialGzip <= INITIAL_JS_BUDGET ? 'within' : 'OVER';
  lines.push(
    `\ninitial JavaScript ${kib(report.initialGzip)} gzipped (${report.initialGzip} B): ${verdict} the budget of ${kib(INITIAL_JS_BUDGET)} (${share} %)`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dist = resolve(process.argv[2] ?? resolve(WEB_ROOT, 'dist'));
  if (!existsSync(resolve(dist, METAFILE))) {
    console.error(`no ${METAFILE} in ${dist}: build first (npm run build:web)`);
    process.exit(2);
  }
  const report = bundleReport(dist);
  console.log(formatReport(report));
  process.exit(report.initialGzip <= INITIAL_JS_BUDGET ? 0 : 1);
}

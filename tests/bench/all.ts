/**
 * `npm run bench`: every benchmark in a short mode, one after another (never two at once: they
 * share this machine's cores), then one markdown table of each figure against its target, printed
 * and written to `.tmp/bench/results.md`. Each bench's own output goes to `.tmp/bench/<name>.log`.
 * A bench that fails still leaves its figures (and the table says it failed).
 *
 *   npm run bench                       # all of them, about 10 minutes
 *   npm run bench -- signaling presence # some of them
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir } from '../../scripts/lib/processes.ts';
import { ROOT } from '../../scripts/lib/stack.ts';
import type { Figure } from './report.ts';

interface Bench {
  name: string;
  script: string;
  args: string[];
  env?: Record<string, string>;
}

const BENCHES: Bench[] = [
  { name: 'signaling', script: 'tests/bench/signaling.ts', args: ['--users', '1000', '--rate', '300', '--seconds', '10'] },
  { name: 'presence', script: 'tests/bench/presence.ts', args: ['--users', '2000', '--changes', '10', '--burst', '1000'] },
  { name: 'billing', script: 'tests/bench/billing.ts', args: ['--rows', '100000', '--calls', '200000', '--repeats', '3', '--tenants', '1000'] },
  {
    name: 'sip',
    script: 'tests/bench/sip.ts',
    args: ['--register-rates', '10,40', '--call-rates', '10,40', '--pstn-rates', '10,40', '--hold-calls', '30,90', '--hold-seconds', '5'],
  },
  { name: 'sfu', script: 'media-fleet/bench/sfu.ts', args: [], env: { BENCH_STEPS: '1,10,40', BENCH_WINDOW_SECONDS: '3' } },
];

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !BENCHES.some((bench) => bench.name === name));
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}
const dir = ensureDir(join(ROOT, '.tmp', 'bench'));
const figuresFile = join(dir, 'figures.jsonl');
rmSync(figuresFile, { force: true });
const outcomes: { name: string; code: number; seconds: number }[] = [];
for (const bench of BENCHES.filter((candidate) => chosen.length === 0 || chosen.includes(candidate.name))) {
  const logFile = join(dir, `${bench.name}.log`);
  console.log(`bench:${bench.name} ${bench.args.join(' ')}  (output: ${logFile})`);
  const started = performance.now();
  const code = await run(bench, logFile);
  const seconds = (performance.now() - started) / 1000;
  outcomes.push({ name: bench.name, code, seconds });
  console.log(`  ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s`);
}

const figures: Figure[] = existsSync(figuresFile)
  ? readFileSync(figuresFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Figure)
  : [];
const table = render(figures, outcomes);
writeFileSync(join(dir, 'results.md'), table);
console.log(`\n${table}\n(written to ${join(dir, 'results.md')})`);
process.exitCode = outcomes.some((outcome) => outcome.code !== 0) ? 1 : 0;

function run(bench: Bench, logFile: string): Promise<number> {
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, bench.script), ...bench.args], {
    cwd: ROOT,
    env: { ...process.env, ...bench.env, BENCH_REPORT: figuresFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

function render(all: Figure[], ran: typeof outcomes): string {
  const format = (value: number) => (Number.isFinite(value) ? (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2)) : String(value));
  const rows = all.map((figure) => {
    const target = figure.target;
    const verdict = !target ? '' : (target.better === 'lower' ? figure.value <= target.value : figure.value >= target.value) ? 'met' : '**not met**';
    const unit = figure.unit ? ` ${figure.unit}` : '';
    return `| ${figure.bench} | ${figure.name} | ${format(figure.value)}${unit} | ${target ? `${target.better === 'lower' ? '≤' : '≥'} ${target.value}${unit}` : ''} | ${verdict} | ${figure.conditions ?? ''} |`;
  });
  const runs = ran.map((outcome) => `${outcome.name} ${outcome.code === 0 ? 'ok' : `**failed (exit ${outcome.code})**`} in ${outcome.seconds.toFixed(0)} s`);
  return [
    `# CallStack benchmarks, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, short mode`,
    '',
    '| bench | figure | measured | target | | conditions |',
    '| --- | --- | ---: | ---: | --- | --- |',
    ...rows,
    '',
    `Runs: ${runs.join('; ')}.`,
    '',
  ].join('\n');
}

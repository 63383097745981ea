import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './stack.ts';

/** A process that registers a stop taking 800 ms (it writes `stopped` when done), then waits. */
function stoppable(dir: string) {
  const script = join(dir, 'service.ts');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
import { stopOnSignal } from ${JSON.stringify(join(ROOT, 'scripts/lib/processes.ts'))};
stopOnSignal([async () => { await new Promise((r) => setTimeout(r, 800)); writeFileSync(${JSON.stringify(join(dir, 'stopped'))}, 'yes'); }]);
console.log('ready');
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (data: Buffer) => data.toString().includes('ready') && resolve()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, ready, exited };
}

test('two Ctrl-Cs in a row (the terminal and bootstrap each send one) still stop everything, then exit 130', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-stop-'));
  const { child, ready, exited } = stoppable(dir);
  await ready;
  child.kill('SIGINT');
  // Apart enough not to be one pending signal to the kernel; both land while the stop runs.
  await new Promise((resolve) => setTimeout(resolve, 150));
  child.kill('SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 150));
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 130, signal: null });
  assert.equal(readFileSync(join(dir, 'stopped'), 'utf8'), 'yes');
});

test('a second Ctrl-C, apart from the first, kills a service that ignores SIGTERM; the stop functions still finish', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-stop-'));
  const script = join(dir, 'service.mts');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
import { Service, stopOnSignal } from ${JSON.stringify(join(ROOT, 'scripts/lib/processes.ts'))};
const stubborn = new Service({ name: 'stubborn', command: 'sh', args: ['-c', 'trap "" TERM; echo up; while :; do sleep 1; done'], logFile: ${JSON.stringify(join(dir, 'stubborn.log'))}, readyPattern: /up/ });
await stubborn.start();
// A grace long enough that only the second Ctrl-C can end this stop.
stopOnSignal([async () => { await stubborn.stop(600_000); writeFileSync(${JSON.stringify(join(dir, 'stopped'))}, 'yes'); }]);
console.log('ready ' + stubborn.pid);
setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const servicePid = await new Promise<number>((resolve) =>
    child.stdout.on('data', (data: Buffer) => /ready (\d+)/.test(data.toString()) && resolve(Number(/ready (\d+)/.exec(data.toString())![1]))),
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  child.kill('SIGINT');
  child.kill('SIGINT'); // the forwarded copy: one request
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.throws(() => readFileSync(join(dir, 'stopped')), 'still waiting for the stubborn service');
  child.kill('SIGINT');
  assert.deepEqual(await exited, { code: 130, signal: null });
  assert.equal(readFileSync(join(dir, 'stopped'), 'utf8'), 'yes');
  assert.throws(() => process.kill(servicePid, 0), /ESRCH/);
});

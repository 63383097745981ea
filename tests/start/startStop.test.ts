/**
 * `npm start` stopped the way people stop it, 20 times in a row on one data directory: Ctrl-C (a
 * SIGINT to the whole foreground process group, as the terminal sends it) at each step of the
 * start-up and once it runs, a second Ctrl-C while it stops, and SIGTERM to npm alone (as `kill`
 * sends it). While it runs, a demo user gets TURN credentials for its coturn, which answers STUN.
 * After each stop, every process it started is gone and its ports are free again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEMO_USERS } from '../../edge/scripts/seed.ts';
import { freePort } from '../../scripts/lib/processes.ts';
import { ROOT } from '../../scripts/lib/stack.ts';

const CYCLES = 20;
/** Where start.ts is when it prints each of these (its `▶` lines), in order; then it runs. */
const STEPS = [/building the web app/, /embedded database/, /applying migrations/, /coturn/, /mediasoup worker/, /starting the edge/, /media node/, /SIP edge/];
const RUNNING = /CallStack is running/;

const dataDir = mkdtempSync(join(tmpdir(), 'callstack-start-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

interface Stop {
  /** What start.ts printed last before the stop. */
  at: RegExp;
  how: 'ctrl-c' | 'ctrl-c twice' | 'sigterm to npm';
}

/** Ctrl-C at every step once and while it runs; then the running platform (and, between, a step) stopped each way. */
const plan: Stop[] = Array.from({ length: CYCLES }, (_, cycle) => {
  if (cycle <= STEPS.length) return { at: [...STEPS, RUNNING][cycle]!, how: 'ctrl-c' };
  const at = cycle % 2 === 0 ? RUNNING : STEPS[cycle % STEPS.length]!;
  return { at, how: (['ctrl-c twice', 'sigterm to npm', 'ctrl-c'] as const)[cycle % 3]! };
});

/** A process as /proc shows it, with its start time so a reused pid is not mistaken for it. */
interface Proc {
  pid: number;
  ppid: number;
  started: string;
  command: string;
}

function processes(): Proc[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        // The command sits in parentheses and may hold spaces; the fields after it are fixed.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
        return [{ pid: Number(name), ppid: Number(fields[1]), started: fields[19]!, command }];
      } catch {
        return []; // gone meanwhile
      }
    });
}

function descendantsOf(root: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const proc of all) {
      if (!parents.has(proc.pid) && parents.has(proc.ppid)) {
        parents.add(proc.pid);
        found.push(proc);
        grew = true;
      }
    }
  }
  return found;
}

function stillRunning(procs: Proc[]): Proc[] {
  const now = new Map(processes().map((proc) => [proc.pid, proc]));
  return procs.filter((proc) => now.get(proc.pid)?.started === proc.started);
}

/** npm start's own defaults, not a database or port the caller's environment names. */
function withoutStack(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _database, NEON_WS_PROXY: _relay, ...rest } = env;
  return rest;
}

/** A demo user gets TURN credentials for the local coturn, and it answers a STUN binding request. */
async function assertTurnServed(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: DEMO_USERS[1]!.email, password: DEMO_USERS[1]!.password }),
  });
  assert.equal(login.status, 200);
  const { accessToken } = (await login.json()) as { accessToken: string };
  const answer = await fetch(`${base}/api/turn-credentials`, { headers: { authorization: `Bearer ${accessToken}` } });
  const { iceServers } = (await answer.json()) as { iceServers: { urls: string[]; username?: string; credential?: string }[] };
  const turn = iceServers.find((server) => server.urls.some((url) => url.startsWith('turn:127.0.0.1:')));
  assert.ok(turn?.username && turn.credential, `no TURN server for loopback: ${JSON.stringify(iceServers)}`);
  const turnPort = Number(/^turn:127\.0\.0\.1:(\d+)/.exec(turn.urls.find((url) => url.startsWith('turn:127.0.0.1:'))!)![1]);
  // RFC 5389 binding request: type 0x0001, length 0, the magic cookie, a transaction id.
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)]);
  const socket = createSocket('udp4');
  try {
    const response = await new Promise<Buffer>((resolve) => {
      socket.on('message', resolve);
      socket.send(request, turnPort, '127.0.0.1');
    });
    assert.equal(response.readUInt16BE(0), 0x0101, 'a binding success response');
    assert.deepEqual(response.subarray(8, 20), request.subarray(8, 20), 'for our transaction');
  } finally {
    socket.close();
  }
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

for (const [cycle, stop] of plan.entries()) {
  test(
    `cycle ${cycle + 1}: ${stop.how} ${stop.at === RUNNING ? 'while it runs' : `at “${stop.at.source}”`}: nothing left running, ports free`,
    { timeout: 600_000 },
    async () => {
      const port = await freePort();
      const npm = spawn('npm', ['start'], {
        cwd: ROOT,
        // Its own process group, as a terminal's foreground job: the group gets the Ctrl-C.
        detached: true,
        env: { ...withoutStack(process.env), PORT: String(port), CALLSTACK_DATA_DIR: dataDir, FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
      const reached = new Promise<void>((resolve, reject) => {
        const onData = (data: Buffer) => {
          output += data.toString();
          if (stop.at.test(output)) resolve();
        };
        npm.stdout.on('data', onData);
        npm.stderr.on('data', onData);
        void exited.then(() => reject(new Error(`npm start exited before “${stop.at.source}”:\n${output.slice(-3000)}`)));
      });
      await reached;
      if (stop.at === RUNNING) await assertTurnServed(port);
      const started = descendantsOf(npm.pid!);
      const sipPort = /server 127\.0\.0\.1:(\d+)/.exec(output)?.[1];

      if (stop.how === 'sigterm to npm') npm.kill('SIGTERM');
      else process.kill(-npm.pid!, 'SIGINT');
      if (stop.how === 'ctrl-c twice') {
        // Apart from the first by more than its copies (processes.ts SAME_REQUEST_MS), while it stops.
        await new Promise((resolve) => setTimeout(resolve, 400));
        try {
          process.kill(-npm.pid!, 'SIGINT');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // all stopped already
        }
      }
      await exited;

      // Processes that were stopping may take a moment to be reaped by their parents.
      for (let tries = 0; tries < 50 && stillRunning(started).length > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        stillRunning(started).map((proc) => proc.command),
        [],
        `left running after ${stop.how}:\n${output.slice(-2000)}`,
      );
      assert.ok(await tcpFree(port), `the web port ${port} is still taken`);
      if (sipPort) {
        assert.ok(await udpFree(Number(sipPort)), `the SIP port ${sipPort} (UDP) is still taken`);
        assert.ok(await tcpFree(Number(sipPort)), `the SIP port ${sipPort} (TCP) is still taken`);
      }
      if (stop.at === RUNNING) assert.match(output, /stopping every service/);
    },
  );
}

/**
 * Child processes for local runs and tests: started with their output in a log file, awaited
 * until ready, and stopped by PID (then SIGKILL if they linger).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

export interface ServiceOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  /** Resolve start() once a line of output matches. */
  readyPattern?: RegExp;
  readyTimeoutMs?: number;
}

/** Services started and not yet exited: what a second Ctrl-C kills at once. */
const running = new Set<Service>();

export class Service {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(readonly options: ServiceOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const { name, command, args, env, cwd, logFile, readyPattern, readyTimeoutMs = 60_000 } = this.options;
    mkdirSync(dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    running.add(this);
    child.once('exit', () => running.delete(this));
    // Own process group (so Ctrl-C reaches us first and we stop in order); if this process dies
    // without stopping it, the group must not outlive us.
    const orphanGuard = () => child.pid && killGroup(child.pid, 'SIGKILL');
    process.once('exit', orphanGuard);
    child.once('exit', () => process.off('exit', orphanGuard));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`${name} exited during start (code ${code}, signal ${signal}); log: ${logFile}\n${this.tail()}`))),
    );
    const ready = new Promise<void>((resolve) => {
      const onData = (data: Buffer) => {
        log.write(data);
        this.output = (this.output + data.toString()).slice(-20_000);
        if (readyPattern?.test(this.output)) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      if (!readyPattern) resolve();
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${name} not ready after ${readyTimeoutMs} ms; log: ${logFile}\n${this.tail()}`)), readyTimeoutMs).unref(),
    );
    exited.catch(() => {});
    await Promise.race([ready, exited, timeout]);
  }

  /** Output seen so far (last 20 kB). */
  get recentOutput(): string {
    return this.output;
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return this.output.split('\n').slice(-lines).join('\n');
    }
  }

  /** Stops the whole process group (wrangler spawns workerd), SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  /** Kills at once, as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid, 'SIGKILL');
    await gone;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

/** Signals this close together are one request: Ctrl-C reaches npm, bootstrap.mjs and us, and both forward it. */
const SAME_REQUEST_MS = 300;
/** How often a stack checks that the process that started it is still there. */
const PARENT_CHECK_MS = 500;

/**
 * On Ctrl-C, SIGTERM or SIGHUP (the terminal closed), runs every registered stop function (newest
 * first), then exits. Copies of the same signal (see SAME_REQUEST_MS) change nothing. A second
 * request while stopping kills the services still running at once instead of waiting for their
 * clean exit; the stop functions still run to the end (the embedded database closes cleanly), so
 * either way nothing is left running on its ports.
 */
export function stopOnSignal(stops: (() => Promise<void>)[]): void {
  let stopping: Promise<void> | null = null;
  let lastSignalAt = 0;
  let hurried = false;
  const stopAll = (code: number) => {
    const now = Date.now();
    const copy = now - lastSignalAt < SAME_REQUEST_MS;
    lastSignalAt = now;
    if (stopping) {
      if (copy || hurried) return;
      hurried = true;
      console.log(`stopping now: killing ${running.size} service${running.size === 1 ? '' : 's'} still running`);
      for (const service of running) void service.kill();
      return;
    }
    console.log('stopping every service CallStack started (Ctrl-C again to kill them at once)');
    stopping = (async () => {
      for (const stop of [...stops].reverse()) await stop().catch(() => {});
      process.exit(code);
    })();
  };
  process.on('SIGINT', () => stopAll(130));
  process.on('SIGTERM', () => stopAll(143));
  process.on('SIGHUP', () => stopAll(129));
  // Whoever started us gone (npm killed with SIGTERM does not pass it on through its shell):
  // nobody is left to stop us, so stop as if told to.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stopAll(143), PARENT_CHECK_MS).unref();
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

/**
 * Starts a service whose files (config, pid, sockets) live in `dir`, then waits for `ready` if
 * given. The returned stop ends it and removes `dir`; a failed start stops and removes too.
 */
export async function startInDir(service: Service, dir: string, ready?: () => Promise<void>): Promise<() => Promise<void>> {
  const stop = async () => {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await service.start();
    await ready?.();
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

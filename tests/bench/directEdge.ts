/**
 * The edge for benchmarks: the same bundle `wrangler deploy` ships (built with `--dry-run`) and
 * the same wrangler.toml bindings, run by Miniflare's workerd with no wrangler dev proxy in the
 * path, so what is measured is the edge itself. Beside it:
 * - a tail worker that counts the edge's invocations (Durable Object requests and WebSocket
 *   events per class), as Workers Trace Events would in production;
 * - the workerd process, whose CPU time is read from /proc;
 * - optionally the V8 inspector, for CPU profiles.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { parseConfig } from '../../edge/src/config.ts';
import { ensureDir, freePort } from '../../scripts/lib/processes.ts';
import { ROOT, WRANGLER_OFFLINE_ENV } from '../../scripts/lib/stack.ts';

export interface DirectEdge {
  url: string;
  /** The workerd process. */
  pid: number;
  /** CPU seconds the workerd process has used so far, in user space and in the kernel. */
  cpuSeconds(): { user: number; system: number };
  /** Invocations so far, by `Class.event` (for example `UserHub.fetch`, `CallSession.alarm`). */
  invocations(): Promise<Record<string, number>>;
  inspectorPort: number | undefined;
  stop(): Promise<void>;
}

const TAIL_WORKER = `
const counts = {};
export default {
  tail(events) {
    for (const event of events) {
      const key = (event.entrypoint ?? 'Worker') + '.' + kind(event.event);
      counts[key] = (counts[key] ?? 0) + 1;
    }
  },
  fetch() { return Response.json(counts); },
};
function kind(info) {
  if (!info) return 'unknown';
  if ('request' in info) return 'fetch';
  if ('scheduledTime' in info && 'cron' in info) return 'scheduled';
  if ('scheduledTime' in info) return 'alarm';
  if ('getWebSocketEvent' in info || 'webSocketEventType' in info) return 'websocket';
  return Object.keys(info).join('+') || 'rpc';
}
`;

export async function startDirectEdge(options: { stateDir: string; logFile: string; vars: Record<string, string>; inspector?: boolean }): Promise<DirectEdge> {
  parseConfig(options.vars);
  const outDir = ensureDir(join(options.stateDir, 'bundle'));
  const home = ensureDir(join(options.stateDir, 'home'));
  const build = spawnSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', outDir, '--config', join(ROOT, 'wrangler.toml')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...WRANGLER_OFFLINE_ENV, CI: 'true', NO_COLOR: '1' },
  });
  if (build.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${build.stdout}${build.stderr}`);

  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, 'wrangler.toml'));
  const port = await freePort();
  const inspectorPort = options.inspector ? await freePort() : undefined;
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const mf = new Miniflare({
    // The edge's structured logs go to the log file, as wrangler's do in the other stacks.
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.pipe(log);
      stderr.pipe(log);
    },
    host: '127.0.0.1',
    port,
    inspectorPort,
    // Objects' storage in memory: a bench's stack is fresh each run, and on disk measured the same here.
    durableObjectsPersist: false,
    r2Persist: join(options.stateDir, 'r2'),
    workers: [
      {
        name: 'callstack-edge',
        compatibilityDate: workerOptions.compatibilityDate,
        compatibilityFlags: workerOptions.compatibilityFlags,
        modules: true,
        scriptPath: join(outDir, 'index.js'),
        bindings: { ...workerOptions.bindings, ...options.vars },
        durableObjects: workerOptions.durableObjects,
        r2Buckets: workerOptions.r2Buckets,
        assets: { directory: join(ROOT, 'web/dist'), binding: 'ASSETS', routerConfig: { has_user_worker: true } },
        tails: ['bench-tail'],
      },
      { name: 'bench-tail', modules: true, script: TAIL_WORKER },
    ],
  });
  const url = (await mf.ready).origin;
  const pid = workerdPid();
  const tail = await mf.getWorker('bench-tail');
  return {
    url,
    pid,
    inspectorPort,
    cpuSeconds: () => processCpuSeconds(pid),
    invocations: async () => (await (await tail.fetch('http://tail/')).json()) as Record<string, number>,
    stop: () => mf.dispose(),
  };
}

/** The workerd this process started (Miniflare runs one). */
function workerdPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.includes('(workerd)') && Number(fields[1]) === process.pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error('no workerd child process found');
}

/** utime and stime of a process, in seconds (the kernel counts clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

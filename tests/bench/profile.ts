/**
 * A CPU profile of the edge over the V8 inspector workerd exposes (Durable Objects share the
 * Worker's isolate locally, so one profile covers them all): written as a `.cpuprofile` (open it
 * in Chrome DevTools) and summarised as the functions with the most self time.
 */
import { writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Profiler {
  /** Stops, writes the profile to `file` and returns the top `count` self-time entries. */
  stop(file: string, count?: number): Promise<{ name: string; ms: number; share: number }[]>;
}

export async function startProfiler(inspectorPort: number): Promise<Profiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string; title: string }[];
  const target = targets.find((candidate) => candidate.title.includes('callstack-edge')) ?? targets[0];
  if (!target) throw new Error('the inspector lists no target');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 200 });
  await send('Profiler.start');
  return {
    async stop(file, count = 15) {
      const { profile } = (await send('Profiler.stop')) as { profile: CpuProfile };
      ws.close();
      writeFileSync(file, JSON.stringify(profile));
      return topSelfTime(profile, count);
    },
  };
}

function topSelfTime(profile: CpuProfile, count: number): { name: string; ms: number; share: number }[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((nodeId, index) => {
    const frame = byNode.get(nodeId)?.callFrame;
    if (!frame || frame.functionName === '(idle)' || frame.functionName === '(program)') return;
    const delta = profile.timeDeltas[index] ?? 0;
    const file = frame.url.split('/').at(-1) ?? '';
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    totals.set(name, (totals.get(name) ?? 0) + delta);
    all += delta;
  });
  return [...totals.entries()]
    .sort(([, a], [, b]) => b - a)
    .slice(0, count)
    .map(([name, micros]) => ({ name, ms: micros / 1000, share: micros / all }));
}

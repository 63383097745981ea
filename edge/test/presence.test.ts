import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { issueAccessToken } from '../src/auth/tokens.ts';
import { foldPresence, nextSince, type PresenceInputs } from '../src/presence/fold.ts';
import { shardIndex } from '../src/presence/shards.ts';
import { CloseCode, type PresenceEntry } from '@callstack/protocol';
import { userHub } from '../src/objects/stubs.ts';

const active = { idle: false };
const idle = { idle: true };
const base: PresenceInputs = { devices: [active], withinGrace: false, inCall: false, manual: null };

describe('presence fold', () => {
  it('applies the precedence offline > dnd > busy > away > online', () => {
    expect(foldPresence(base, 'offline')).toBe('online');
    expect(foldPresence({ ...base, devices: [] }, 'online')).toBe('offline');
    expect(foldPresence({ ...base, devices: [], manual: 'dnd', inCall: true }, 'dnd')).toBe('offline');
    expect(foldPresence({ ...base, manual: 'dnd', inCall: true }, 'online')).toBe('dnd');
    expect(foldPresence({ ...base, manual: 'away', inCall: true }, 'online')).toBe('busy');
    expect(foldPresence({ ...base, inCall: true, devices: [idle] }, 'online')).toBe('busy');
    expect(foldPresence({ ...base, manual: 'away' }, 'online')).toBe('away');
  });

  it('is away only when every device is idle', () => {
    expect(foldPresence({ ...base, devices: [idle, idle] }, 'online')).toBe('away');
    expect(foldPresence({ ...base, devices: [idle, active] }, 'away')).toBe('online');
  });

  it('holds the previous status while the offline grace runs', () => {
    expect(foldPresence({ ...base, devices: [], withinGrace: true }, 'away')).toBe('away');
    expect(foldPresence({ ...base, devices: [], withinGrace: true }, 'busy')).toBe('busy');
  });

  it('orders changes strictly even within one millisecond', () => {
    expect(nextSince(0, 1_000)).toBe(1_000);
    expect(nextSince(1_000, 1_000)).toBe(1_001);
    expect(nextSince(5_000, 1_000)).toBe(5_001);
  });
});

describe('presence sharding', () => {
  it('maps a key to the same shard every time, within range, spread over all shards', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) {
      const shard = shardIndex(`user-${i}:device-${i}`, 4);
      expect(shardIndex(`user-${i}:device-${i}`, 4)).toBe(shard);
      counts[shard]!++;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});

type Frame = { type: string; [key: string]: unknown };

/** A WebSocket opened through the Worker, collecting frames and its close event. */
async function open(path: string, token: string, device: string) {
  const ticket = await (
    await SELF.fetch('http://edge.test/api/sockets/ticket', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  ).json<{ ticket: string }>();
  const response = await SELF.fetch(`http://edge.test${path}?ticket=${ticket.ticket}&device=${device}`, { headers: { Upgrade: 'websocket' } });
  const ws = response.webSocket;
  if (!ws) throw new Error(`upgrade refused: ${response.status}`);
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener('message', (event) => {
    frames.push(JSON.parse(event.data as string) as Frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (event) => resolve(event.code)));
  ws.accept();
  const next = async (match: (frame: Frame) => boolean): Promise<Frame> => {
    for (;;) {
      const found = frames.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, frames, closed, next };
}

describe('UserHub.disconnectAll', () => {
  it('closes the signaling and presence sockets of the user with its code and makes the user offline', async () => {
    const principal = { actorType: 'user' as const, tenantId: 'tenant-da', role: 'user' as const };
    const alice = await issueAccessToken(env, { ...principal, userId: 'alice', displayName: 'Alice' });
    const bob = await issueAccessToken(env, { ...principal, userId: 'bob', displayName: 'Bob' });
    const bobWatching = await open('/api/presence', bob, 'bob-1');
    const aliceWatching = await open('/api/presence', alice, 'alice-w');
    const aliceDevice = await open('/api/signaling', alice, 'alice-1');
    await aliceDevice.next((frame) => frame.type === 'presence.self' && frame.status === 'online');
    await bobWatching.next(
      (frame) => frame.type === 'presence.updates' && (frame.users as PresenceEntry[]).some((entry) => entry.userId === 'alice' && entry.status === 'online'),
    );

    await userHub(env, 'tenant-da', 'alice').disconnectAll(CloseCode.disconnected, 'signed out everywhere');
    expect(await aliceDevice.closed).toBe(CloseCode.disconnected);
    expect(await aliceWatching.closed).toBe(CloseCode.disconnected);
    // No grace: watchers see the user offline at once.
    await bobWatching.next(
      (frame) => frame.type === 'presence.updates' && (frame.users as PresenceEntry[]).some((entry) => entry.userId === 'alice' && entry.status === 'offline'),
    );
    bobWatching.ws.close(1000);
  });
});

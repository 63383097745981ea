import { env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import type { ServerMessage } from '@callstack/protocol';
import { describe, expect, it } from 'vitest';
import { issueSocketTicket } from '../src/auth/tokens.ts';
import { presenceShard, userHub } from '../src/objects/stubs.ts';
import { devicesOf } from '../src/presence/fold.ts';
import { PUBLISH_RETRY_MS, presenceDueAt, stepPresence, type Observed, type PresenceState } from '../src/presence/presenceState.ts';
import { UserPresence } from '../src/presence/UserPresence.ts';

const T0 = 1_000_000;
const GRACE = 30_000;
const user = { tenantId: 't1', userId: 'alice' };
const one: Observed = { devices: [{ idle: false }], inCall: false, offlineGraceMs: GRACE };
const none: Observed = { ...one, devices: [] };

/** Alice online since T0 on one device, every shard told. */
function online(): PresenceState {
  const { state } = stepPresence(null, { kind: 'connected', user, observed: one }, T0);
  if (!state) throw new Error('no state');
  return { ...state, publishedSince: state.since };
}

describe('presence state machine', () => {
  it('the first device makes the user online: every device hears it and every shard gets it', () => {
    const { state, effects } = stepPresence(null, { kind: 'connected', user, observed: one }, T0);
    expect(state).toMatchObject({ status: 'online', since: T0, manual: null, offlineAt: null, publishedSince: 0 });
    expect(effects).toEqual([
      { kind: 'self', to: 'all', message: { type: 'presence.self', status: 'online', manual: null, since: T0 } },
      { kind: 'publish', entry: { userId: 'alice', status: 'online', since: T0 } },
    ]);
  });

  it('a further device hears the unchanged status alone, and nothing is published', () => {
    const { state, effects } = stepPresence(online(), { kind: 'connected', user, observed: { ...one, devices: [{ idle: false }, { idle: false }] } }, T0 + 5);
    expect(state).toEqual(online());
    expect(effects).toEqual([{ kind: 'self', to: 'connecting', message: { type: 'presence.self', status: 'online', manual: null, since: T0 } }]);
  });

  it('before any device connected, nothing happens and nothing is stored', () => {
    for (const observed of [one, none]) {
      expect(stepPresence(null, { kind: 'changed', observed }, T0)).toEqual({ state: null, effects: [] });
      expect(stepPresence(null, { kind: 'alarm', observed }, T0)).toEqual({ state: null, effects: [] });
      expect(stepPresence(null, { kind: 'manual', status: 'dnd', observed }, T0)).toEqual({ state: null, effects: [] });
    }
  });

  it('the last device leaving holds the status for the grace, then the alarm makes the user offline', () => {
    const left = stepPresence(online(), { kind: 'changed', observed: none }, T0 + 1_000);
    expect(left.effects).toEqual([]);
    expect(left.state).toMatchObject({ status: 'online', offlineAt: T0 + 1_000 + GRACE });
    expect(presenceDueAt(left.state)).toBe(T0 + 1_000 + GRACE);

    const early = stepPresence(left.state, { kind: 'alarm', observed: none }, T0 + GRACE);
    expect(early).toEqual({ state: left.state, effects: [] });

    const over = stepPresence(left.state, { kind: 'alarm', observed: none }, T0 + 1_000 + GRACE);
    expect(over.state).toMatchObject({ status: 'offline', since: T0 + 1_000 + GRACE, offlineAt: null });
    expect(over.effects.map((effect) => effect.kind)).toEqual(['self', 'publish']);
    expect(presenceDueAt(over.state)).toBeNull();
  });

  it('a device back within the grace cancels it without any update (a reloading tab)', () => {
    const left = stepPresence(online(), { kind: 'changed', observed: none }, T0 + 1_000);
    const back = stepPresence(left.state, { kind: 'connected', user, observed: one }, T0 + 2_000);
    expect(back.state).toEqual(online());
    expect(back.effects).toEqual([{ kind: 'self', to: 'connecting', message: { type: 'presence.self', status: 'online', manual: null, since: T0 } }]);
    expect(presenceDueAt(back.state)).toBeNull();
  });

  it('disconnecting everything makes the user offline at once', () => {
    const { state, effects } = stepPresence(online(), { kind: 'disconnectedAll', observed: none }, T0 + 1_000);
    expect(state).toMatchObject({ status: 'offline', since: T0 + 1_000, offlineAt: null });
    expect(effects).toContainEqual({ kind: 'publish', entry: { userId: 'alice', status: 'offline', since: T0 + 1_000 } });
  });

  it('a manual choice reaches every device; one that leaves the status as it was is not published', () => {
    const dnd = stepPresence(online(), { kind: 'manual', status: 'dnd', observed: one }, T0 + 1);
    expect(dnd.state).toMatchObject({ status: 'dnd', manual: 'dnd' });
    expect(dnd.effects.map((effect) => effect.kind)).toEqual(['self', 'publish']);

    const busy = stepPresence(online(), { kind: 'changed', observed: { ...one, inCall: true } }, T0 + 1);
    const away = stepPresence(busy.state, { kind: 'manual', status: 'away', observed: { ...one, inCall: true } }, T0 + 2);
    expect(away.state).toMatchObject({ status: 'busy', manual: 'away' });
    expect(away.effects).toEqual([{ kind: 'self', to: 'all', message: { type: 'presence.self', status: 'busy', manual: 'away', since: T0 + 1 } }]);

    const cleared = stepPresence(dnd.state, { kind: 'manual', status: 'online', observed: one }, T0 + 3);
    expect(cleared.state).toMatchObject({ status: 'online', manual: null });
  });

  it('a status some shard missed is published again from the alarm until every shard has it', () => {
    const changed = stepPresence(online(), { kind: 'manual', status: 'away', observed: one }, T0 + 10);
    const failed = stepPresence(changed.state, { kind: 'published', since: T0 + 10, ok: false }, T0 + 20);
    expect(failed.state).toMatchObject({ publishedSince: T0, retryAt: T0 + 20 + PUBLISH_RETRY_MS });
    expect(presenceDueAt(failed.state)).toBe(T0 + 20 + PUBLISH_RETRY_MS);

    const retried = stepPresence(failed.state, { kind: 'alarm', observed: one }, T0 + 20 + PUBLISH_RETRY_MS);
    expect(retried.effects).toEqual([{ kind: 'publish', entry: { userId: 'alice', status: 'away', since: T0 + 10 } }]);
    const done = stepPresence(retried.state, { kind: 'published', since: T0 + 10, ok: true }, T0 + 30 + PUBLISH_RETRY_MS);
    expect(done.state).toMatchObject({ publishedSince: T0 + 10, retryAt: null });
    expect(presenceDueAt(done.state)).toBeNull();
  });

  it('an older publish failing after a newer one reached every shard needs no retry', () => {
    const first = stepPresence(online(), { kind: 'manual', status: 'away', observed: one }, T0 + 10);
    const second = stepPresence(first.state, { kind: 'manual', status: 'dnd', observed: one }, T0 + 11);
    const newerDone = stepPresence(second.state, { kind: 'published', since: T0 + 11, ok: true }, T0 + 12);
    const olderFailed = stepPresence(newerDone.state, { kind: 'published', since: T0 + 10, ok: false }, T0 + 13);
    expect(olderFailed.state).toMatchObject({ publishedSince: T0 + 11, retryAt: null });
    // The older one succeeding while the newer is still out keeps the user waiting for the newer.
    const olderDone = stepPresence(second.state, { kind: 'published', since: T0 + 10, ok: true }, T0 + 12);
    expect(olderDone.state).toMatchObject({ publishedSince: T0 + 10, retryAt: null });
  });

  it('a device is idle only when all of its sockets are', () => {
    expect(
      devicesOf([
        { deviceId: 'd1', idle: true },
        { deviceId: 'd1', idle: false },
        { deviceId: 'd2', idle: true },
      ]),
    ).toEqual([{ idle: false }, { idle: true }]);
    expect(
      devicesOf([
        { deviceId: 'd1', idle: false },
        { deviceId: 'd1', idle: true },
      ]),
    ).toEqual([{ idle: false }]);
  });
});

describe('UserPresence in a hub', () => {
  it('keeps the state of a hub created before publish retries had a deadline, and publishes to every shard', async () => {
    const tenantId = 'tenant-up-legacy';
    const delivered: { message: ServerMessage; to: unknown }[] = [];
    await runInDurableObject(userHub(env, tenantId, 'alice'), async (_hub, state) => {
      const { sql } = state.storage;
      sql.exec('drop table presence');
      sql.exec(
        `create table presence (id integer primary key check (id = 1), tenant_id text not null, user_id text not null,
           status text not null, since integer not null, manual text, offline_at integer, published_since integer not null)`,
      );
      sql.exec(`insert into presence values (1, ?, 'alice', 'dnd', 5, 'dnd', null, 5)`, tenantId);
      const presence = new UserPresence(sql, env, {
        sockets: () => [{ deviceId: 'alice-1', idle: false }],
        inCall: () => false,
        deliver: (message, to) => delivered.push({ message, to }),
      });
      expect(presence.doNotDisturb()).toBe(true);
      expect(presence.dueAt()).toBeNull();
      await presence.setManual('online');
      expect(presence.dueAt()).toBeNull();
    });
    expect(delivered).toEqual([{ message: { type: 'presence.self', status: 'online', manual: null, since: expect.any(Number) }, to: 'all' }]);
    for (let index = 0; index < 4; index++) {
      const row = await runInDurableObject(
        presenceShard(env, tenantId, index),
        (_shard, state) => state.storage.sql.exec<{ status: string }>(`select status from presence where user_id = 'alice'`).toArray()[0],
      );
      expect(row).toEqual({ status: 'online' });
    }
  });

  it('sets the hub’s alarm to the end of the grace when the last device leaves, and goes offline when it fires', async () => {
    const tenantId = 'tenant-up-grace';
    const { ticket } = await issueSocketTicket(env, { actorType: 'user', tenantId, role: 'user', userId: 'alice', displayName: 'Alice' });
    const response = await SELF.fetch(`http://edge.test/api/signaling?ticket=${ticket}&device=alice-1`, { headers: { Upgrade: 'websocket' } });
    const ws = response.webSocket!;
    ws.accept();
    const hub = userHub(env, tenantId, 'alice');
    const left = Date.now();
    ws.close(1000);
    await expect.poll(() => runInDurableObject(hub, (_hub, state) => state.storage.getAlarm())).toBeGreaterThanOrEqual(left + 30_000);

    // The alarm firing early (within the grace) keeps the status and sets itself again.
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    const statusOf = () => runInDurableObject(hub, (_hub, state) => state.storage.sql.exec<{ status: string }>('select status from presence').one().status);
    expect(await statusOf()).toBe('online');
    expect(await runInDurableObject(hub, (_hub, state) => state.storage.getAlarm())).toBeGreaterThanOrEqual(left + 30_000);

    await runInDurableObject(hub, (_hub, state) => state.storage.sql.exec('update presence set offline_at = ?', Date.now() - 1));
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    expect(await statusOf()).toBe('offline');
    expect(await runInDurableObject(hub, (_hub, state) => state.storage.getAlarm())).toBeNull();
  });
});

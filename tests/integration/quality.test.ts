/**
 * Call quality through the real edge and PostgreSQL: devices report `getStats()` summaries on the
 * signaling socket, the edge rates them with the protocol's E-model (`quality.update`), keeps
 * per-participant aggregates in the call's and room's Durable Objects, and writes them into the
 * CDRs (`call_quality`, `room_sessions`) that the call history and the admin view read.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  mos,
  QUALITY_REPORT_MIN_INTERVAL_MS,
  qualityWarnings,
  rFactor,
  type AdminCallsResponse,
  type CallHistoryResponse,
  type ClientMessage,
  type QualityReport,
  type QualityScope,
  type ServerMessage,
} from '@callstack/protocol';
import { withClient } from '../../edge/scripts/migrations.ts';
import { api, createTenant, login, waitForCallRecord, type TestTenant } from '../lib/fixtures.ts';
import { devicePool, type SignalingClient } from '../lib/SignalingClient.ts';
import { stack } from '../lib/stack.ts';

const { device, closeAll } = devicePool(() => stack.url, login);
after(closeAll);

type Figures = Pick<QualityReport, 'rttMs' | 'jitterMs' | 'lossPercent' | 'codec' | 'intervalMs'>;
type Reply = Extract<ServerMessage, { type: 'quality.update' | 'error' }>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Long enough after a device's previous accepted report for the next one to be accepted. */
const nextReportWindow = () => pause(QUALITY_REPORT_MIN_INTERVAL_MS + 150);
const near = (actual: unknown, expected: number, what: string) =>
  assert.ok(Math.abs(Number(actual) - expected) < 1e-9, `${what}: ${String(actual)} is not ${expected}`);

/** Sends a report and resolves with its `quality.update` or `error` (same ref). */
function report(client: SignalingClient, scope: QualityScope, figures: Figures): Promise<Reply> {
  return client.reply({ type: 'quality.report', scope, ...figures }, 'quality.update');
}

async function answeredCall(tenant: TestTenant): Promise<{ alice: SignalingClient; bob: SignalingClient; callId: string; scope: QualityScope }> {
  const alice = await device(tenant.users.alice);
  const bob = await device(tenant.users.bob);
  const callId = crypto.randomUUID();
  assert.equal((await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: true } })).type, 'ack');
  await bob.next('call.incoming');
  assert.equal((await bob.request({ type: 'call.accept', callId })).type, 'ack');
  await alice.next('call.accepted');
  return { alice, bob, callId, scope: { kind: 'call', callId } };
}

async function hangUp(client: SignalingClient, callId: string): Promise<void> {
  assert.equal((await client.request({ type: 'call.hangup', callId })).type, 'ack');
}

function query<T>(sql: string, params: unknown[]): Promise<T[]> {
  return withClient(stack.database, async (client) => (await client.query(sql, params)).rows as T[]);
}

interface QualityRow {
  user_id: string;
  samples: number;
  mos_min: number;
  mos_avg: number;
  loss_avg: number;
  loss_max: number;
  jitter_avg: number;
  rtt_avg: number;
  codec: string;
}

/** What the CDR must hold for these reports: minimum MOS, averages weighted by each report's interval. */
function expected(reports: Figures[]) {
  const weight = reports.reduce((sum, r) => sum + r.intervalMs, 0);
  const avg = (value: (r: Figures) => number) => reports.reduce((sum, r) => sum + value(r) * r.intervalMs, 0) / weight;
  return {
    samples: reports.length,
    mosMin: Math.min(...reports.map((r) => mos(r))),
    mosAvg: avg((r) => mos(r)),
    lossAvg: avg((r) => r.lossPercent),
    lossMax: Math.max(...reports.map((r) => r.lossPercent)),
    jitterAvg: avg((r) => r.jitterMs),
    rttAvg: avg((r) => r.rttMs),
    codec: reports.at(-1)!.codec,
  };
}

function assertRow(row: QualityRow | undefined, reports: Figures[], who: string): void {
  assert.ok(row, `no quality row for ${who}`);
  const want = expected(reports);
  assert.equal(row.samples, want.samples, `${who} samples`);
  near(row.mos_min, want.mosMin, `${who} mos_min`);
  near(row.mos_avg, want.mosAvg, `${who} mos_avg`);
  near(row.loss_avg, want.lossAvg, `${who} loss_avg`);
  near(row.loss_max, want.lossMax, `${who} loss_max`);
  near(row.jitter_avg, want.jitterAvg, `${who} jitter_avg`);
  near(row.rtt_avg, want.rttAvg, `${who} rtt_avg`);
  assert.equal(row.codec, want.codec, `${who} codec`);
}

const clean: Figures = { rttMs: 40, jitterMs: 3, lossPercent: 0, codec: 'opus', intervalMs: 5_000 };

describe('quality of a 1:1 call', () => {
  test('both parties report; the edge rates with the E-model, warns past the thresholds, limits floods and writes the CDR', async () => {
    const tenant = await createTenant();
    const { alice, bob, callId, scope } = await answeredCall(tenant);
    const aliceReports: Figures[] = [clean, { rttMs: 180, jitterMs: 12, lossPercent: 0.5, codec: 'opus', intervalMs: 10_000 }];
    const bobReports: Figures[] = [
      { rttMs: 520, jitterMs: 45, lossPercent: 3, codec: 'opus', intervalMs: 5_000 },
      { rttMs: 90, jitterMs: 8, lossPercent: 1.5, codec: 'pcmu', intervalMs: 4_000 },
    ];

    for (const [index, figures] of aliceReports.entries()) {
      if (index > 0) await nextReportWindow();
      const [fromAlice, fromBob] = await Promise.all([report(alice, scope, figures), report(bob, scope, bobReports[index]!)]);
      for (const [reply, sent] of [
        [fromAlice, figures],
        [fromBob, bobReports[index]!],
      ] as const) {
        assert.equal(reply.type, 'quality.update', JSON.stringify(reply));
        if (reply.type !== 'quality.update') return;
        assert.deepEqual(reply.scope, scope);
        assert.equal(reply.mos, mos(sent));
        assert.equal(reply.rFactor, rFactor(sent));
        assert.deepEqual(reply.warnings, qualityWarnings(sent));
        assert.deepEqual(reply.stats, { rttMs: sent.rttMs, jitterMs: sent.jitterMs, lossPercent: sent.lossPercent, codec: sent.codec });
      }
      if (index === 0) {
        assert.deepEqual(fromAlice.type === 'quality.update' && fromAlice.warnings, []);
        assert.deepEqual(fromBob.type === 'quality.update' && fromBob.warnings, ['rtt', 'jitter', 'loss', 'mos']);
      }
    }
    assert.ok(mos(aliceReports[0]!) > 4.3, `clean link MOS ${mos(aliceReports[0]!)}`);

    // A flood: the report right after an accepted one is refused and not counted.
    const flood = await report(alice, scope, { ...clean, lossPercent: 40 });
    assert.equal(flood.type === 'error' && flood.code, 'rate_limited');

    await hangUp(alice, callId);
    await bob.next('call.ended');
    const late = await report(bob, scope, clean);
    assert.equal(late.type === 'error' && late.code, 'invalid_state');

    await waitForCallRecord(callId);
    const rows = await query<QualityRow>('select * from call_quality where call_id = $1', [callId]);
    assert.equal(rows.length, 2);
    assertRow(
      rows.find((row) => row.user_id === tenant.users.alice.id),
      aliceReports,
      'alice',
    );
    assertRow(
      rows.find((row) => row.user_id === tenant.users.bob.id),
      bobReports,
      'bob',
    );

    // Each party's history shows their own quality; the admin view shows both.
    for (const [user, reports] of [
      [tenant.users.alice, aliceReports],
      [tenant.users.bob, bobReports],
    ] as const) {
      const history = await api<CallHistoryResponse>('GET', '/api/calls', { auth: (await login(user)).accessToken });
      const entry = history.body.calls.find((call) => call.callId === callId);
      assert.ok(entry?.quality, `${user.displayName} sees no quality`);
      const want = expected(reports);
      assert.equal(entry.quality.samples, want.samples);
      near(entry.quality.mosAvg, want.mosAvg, 'history mosAvg');
      near(entry.quality.mosMin, want.mosMin, 'history mosMin');
    }
    const admin = await api<AdminCallsResponse>('GET', '/api/admin/calls', { auth: (await login(tenant.users.alice)).accessToken });
    assert.equal(admin.status, 200);
    const call = admin.body.calls.find((c) => c.callId === callId);
    assert.equal(call?.caller.userId, tenant.users.alice.id);
    near(call?.quality.caller?.rttAvg, expected(aliceReports).rttAvg, 'admin caller rttAvg');
    near(call?.quality.callee?.lossMax, 3, 'admin callee lossMax');
    const operator = await api<AdminCallsResponse>('GET', '/api/admin/calls', { auth: (await login(tenant.users.carol)).accessToken });
    assert.equal(operator.status, 200);
    assert.ok(operator.body.calls.some((c) => c.callId === callId));
    const user = await api('GET', '/api/admin/calls', { auth: (await login(tenant.users.bob)).accessToken });
    assert.equal(user.status, 403);
    // Another organisation's admin never sees the call.
    const other = await createTenant();
    const stranger = await api<AdminCallsResponse>('GET', '/api/admin/calls', { auth: (await login(other.users.alice)).accessToken });
    assert.deepEqual(stranger.body.calls, []);
  });

  test('malformed and out-of-range reports are refused with a typed error and nothing is stored', async () => {
    const tenant = await createTenant();
    const { alice, callId, scope } = await answeredCall(tenant);
    const valid = { type: 'quality.report', scope, ...clean };
    const bad: unknown[] = [
      { ...valid, lossPercent: 150 },
      { ...valid, rttMs: -1 },
      { ...valid, jitterMs: 'high' },
      { ...valid, codec: 'mp3' },
      { ...valid, intervalMs: 0 },
      { ...valid, scope: { kind: 'call', callId: 'not an id' } },
      { ...valid, video: { bitrateKbps: -3, framesPerSecond: 20, width: 640, height: 480 } },
    ];
    for (const message of bad) {
      alice.sendRaw(JSON.stringify(message));
      const error = await alice.next('error');
      assert.equal(error.code, 'bad_message', JSON.stringify(message));
    }
    alice.sendRaw('{"type":"quality.report","rttMs":NaN}');
    assert.equal((await alice.next('error')).code, 'bad_message');
    // None of them counted: the next valid report is not rate limited, and it is the only sample.
    const accepted = await report(alice, scope, { ...clean, rttMs: 77 });
    assert.equal(accepted.type, 'quality.update');
    await hangUp(alice, callId);
    await waitForCallRecord(callId);
    const rows = await query<QualityRow>('select * from call_quality where call_id = $1', [callId]);
    assert.equal(rows.length, 1);
    assertRow(rows[0], [{ ...clean, rttMs: 77 }], 'alice');
  });

  test('only the two devices in the call may report, and only while it is up', async () => {
    const tenant = await createTenant();
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const bobOther = await device(tenant.users.bob);
    const carol = await device(tenant.users.carol);
    const callId = crypto.randomUUID();
    const scope: QualityScope = { kind: 'call', callId };
    await alice.request({ type: 'call.invite', callId, to: tenant.users.bob.id, media: { audio: true, video: false } });
    await bob.next('call.incoming');
    const ringing = await report(alice, scope, clean);
    assert.equal(ringing.type === 'error' && ringing.code, 'invalid_state');
    await bob.request({ type: 'call.accept', callId });
    await alice.next('call.accepted');

    const outsider = await report(carol, scope, clean);
    assert.equal(outsider.type === 'error' && outsider.code, 'not_found');
    const otherDevice = await report(bobOther, scope, clean);
    assert.equal(otherDevice.type === 'error' && otherDevice.code, 'invalid_state');
    const unknown = await report(alice, { kind: 'call', callId: crypto.randomUUID() }, clean);
    assert.equal(unknown.type === 'error' && unknown.code, 'not_found');
    const otherTenant = await createTenant();
    const stranger = await device(otherTenant.users.alice);
    const across = await report(stranger, scope, clean);
    assert.equal(across.type === 'error' && across.code, 'not_found');
    assert.equal((await report(bob, scope, clean)).type, 'quality.update');
    await hangUp(bob, callId);
    await waitForCallRecord(callId);
    const rows = await query<QualityRow>('select * from call_quality where call_id = $1', [callId]);
    assert.deepEqual(
      rows.map((row) => row.user_id),
      [tenant.users.bob.id],
    );
  });
});

interface RoomSessionRow extends QualityRow {
  session_id: string;
  tenant_id: string;
  room_id: string;
  joined_at: Date;
  left_at: Date;
  duration_ms: number;
}

async function ask<T extends ServerMessage['type']>(client: SignalingClient, type: T, message: ClientMessage): Promise<Extract<ServerMessage, { type: T }>> {
  const ref = crypto.randomUUID().slice(0, 8);
  const reply = client.next(type, (m) => 'ref' in m && m.ref === ref, 15_000);
  client.send({ ...message, ref });
  return reply;
}

async function waitForStays(roomId: string, count: number): Promise<RoomSessionRow[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await query<RoomSessionRow>('select * from room_sessions where room_id = $1 order by joined_at', [roomId]);
    if (rows.length >= count) return rows;
    if (Date.now() > deadline) throw new Error(`${rows.length} of ${count} room sessions of ${roomId}`);
    await pause(100);
  }
}

describe('quality in a conference room', () => {
  test("a participant's reports end up in their room_sessions row when they leave; a closed socket writes one too", async () => {
    const tenant = await createTenant();
    const alice = await device(tenant.users.alice);
    const dave = await device(tenant.users.dave);
    const bob = await device(tenant.users.bob);
    const { roomId } = await ask(alice, 'room.created', { type: 'room.create' });
    const scope: QualityScope = { kind: 'room', roomId };
    await ask(alice, 'room.joined', { type: 'room.join', roomId });
    await ask(dave, 'room.joined', { type: 'room.join', roomId });

    const notJoined = await report(bob, scope, clean);
    assert.equal(notJoined.type === 'error' && notJoined.code, 'invalid_state');
    const noRoom = await report(alice, { kind: 'room', roomId: crypto.randomUUID() }, clean);
    assert.equal(noRoom.type === 'error' && noRoom.code, 'not_found');

    const reports: Figures[] = [
      { rttMs: 60, jitterMs: 6, lossPercent: 0.2, codec: 'opus', intervalMs: 5_000 },
      { rttMs: 450, jitterMs: 35, lossPercent: 2.5, codec: 'opus', intervalMs: 5_000 },
    ];
    const first = await report(alice, scope, reports[0]!);
    assert.equal(first.type === 'quality.update' && first.mos, mos(reports[0]!));
    const flood = await report(alice, scope, reports[1]!);
    assert.equal(flood.type === 'error' && flood.code, 'rate_limited');
    await nextReportWindow();
    const second = await report(alice, scope, reports[1]!);
    assert.deepEqual(second.type === 'quality.update' && second.warnings, ['rtt', 'jitter', 'loss', 'mos']);

    assert.equal((await alice.request({ type: 'room.leave', roomId })).type, 'ack');
    const [aliceStay] = await waitForStays(roomId, 1);
    assert.equal(aliceStay?.user_id, tenant.users.alice.id);
    assert.equal(aliceStay.tenant_id, tenant.id);
    assert.equal(aliceStay.duration_ms, new Date(aliceStay.left_at).getTime() - new Date(aliceStay.joined_at).getTime());
    assert.ok(aliceStay.duration_ms >= QUALITY_REPORT_MIN_INTERVAL_MS, `stay of ${aliceStay.duration_ms} ms`);
    assertRow(aliceStay, reports, 'alice in the room');
    // The stay is part of alice's data export.
    const exported = await api<{ roomSessions: { roomId: string; durationMs: number; quality: { samples: number } | null }[] }>('GET', '/api/me/export', {
      auth: (await login(tenant.users.alice)).accessToken,
    });
    assert.deepEqual(
      exported.body.roomSessions.map((stay) => [stay.roomId, stay.durationMs, stay.quality?.samples]),
      [[roomId, aliceStay.duration_ms, 2]],
    );

    // Dave never reported: his stay is recorded when his socket closes, without quality.
    await dave.close();
    const stays = await waitForStays(roomId, 2);
    const daveStay = stays.find((row) => row.user_id === tenant.users.dave.id);
    assert.equal(daveStay?.samples, 0);
    assert.equal(daveStay.mos_avg, null);
    assert.equal(daveStay.codec, null);
  });
});

/**
 * A recorded 1:1 call through the real edge and media node: the invite asks for recording, the
 * callee is told, both parties get the call's room on accept, join it and publish real opus and
 * VP8 over plain transports; the room records by itself; hang-up closes the room and completes
 * the recording, linked to the call, with both parties' tracks. Nobody else may join the room,
 * and no SDP is relayed for such a call.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { after, before, test } from 'node:test';
import type { RecordingView } from '@callstack/protocol';
import { encodeClip, type RtpClip } from '../../media-fleet/src/rtpClip.ts';
import { api, createTenant, login, waitForCallRecord, type TestTenant } from '../lib/fixtures.ts';
import { join, producePlain } from '../lib/rooms.ts';
import { devicePool, type SignalingClient } from '../lib/SignalingClient.ts';
import { stack } from '../lib/stack.ts';

const { device, closeAll } = devicePool(() => stack.url, login);
const sockets: Socket[] = [];
let tenant: TestTenant;
let audio: RtpClip;
let video: RtpClip;

before(async () => {
  tenant = await createTenant();
  [audio, video] = await Promise.all([encodeClip('audio', 2), encodeClip('video', 2)]);
});
after(async () => {
  await closeAll();
  for (const socket of sockets) socket.close();
});

const media = { audio: true, video: true };

async function errorCode(client: SignalingClient, message: Parameters<SignalingClient['request']>[0]): Promise<string> {
  const answer = await client.request(message);
  assert.equal(answer.type, 'error', `${message.type} should fail`);
  return answer.type === 'error' ? answer.code : '';
}

test('a recorded call runs through its own room, records both parties by itself and completes on hang-up', async () => {
  const { alice, bob, carol, dave } = tenant.users; // admin, user, operator, user
  const [aliceDevice, bobDevice] = await Promise.all([device(alice), device(bob)]);
  const callId = crypto.randomUUID();

  assert.equal((await aliceDevice.request({ type: 'call.invite', callId, to: bob.id, media, record: true })).type, 'ack');
  const incoming = await bobDevice.next('call.incoming');
  assert.equal(incoming.record, true, 'the callee is told before answering');
  assert.equal((await bobDevice.request({ type: 'call.accept', callId }, 15_000)).type, 'ack');
  const [aliceAccepted, bobAccepted] = await Promise.all([aliceDevice.next('call.accepted'), bobDevice.next('call.accepted')]);
  const { roomId } = aliceAccepted;
  assert.ok(roomId, 'call.accepted names the room');
  assert.equal(bobAccepted.roomId, roomId);

  // No SDP for a call whose media goes through the room.
  assert.equal(await errorCode(aliceDevice, { type: 'call.offer', callId, sdp: 'v=0 offer' }), 'invalid_state');
  assert.equal(await errorCode(bobDevice, { type: 'call.answer', callId, sdp: 'v=0 answer' }), 'invalid_state');

  // Only the two parties may join: not another user, not even an operator.
  for (const outsider of [dave, carol]) {
    assert.equal(await errorCode(await device(outsider), { type: 'room.join', roomId }), 'forbidden', outsider.email);
  }

  await join(aliceDevice, roomId);
  const bobJoined = await join(bobDevice, roomId);
  assert.equal(bobJoined.recording, null, 'nothing published yet: not recording');

  // The caller's first producer starts the recording, in the caller's name, for everyone in the room.
  const aliceAudio = await producePlain(aliceDevice, roomId, 'audio', 0x7001, sockets);
  const [{ recording }] = await Promise.all([
    bobDevice.next('room.recording', (m) => m.recording !== null, 15_000),
    aliceDevice.next('room.recording', (m) => m.recording !== null, 15_000),
  ]);
  assert.equal(recording!.startedBy.userId, alice.id);
  const aliceVideo = await producePlain(aliceDevice, roomId, 'video', 0x7002, sockets);
  const bobAudio = await producePlain(bobDevice, roomId, 'audio', 0x7003, sockets);
  const bobVideo = await producePlain(bobDevice, roomId, 'video', 0x7004, sockets);
  // A producer that comes while recording is picked up once its ffmpeg listens (about 1 s on
  // this machine; earlier packets are not recorded): give the three later ones that time.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await Promise.all([aliceAudio(audio), aliceVideo(video), bobAudio(audio), bobVideo(video)]);
  await new Promise((resolve) => setTimeout(resolve, 300));

  assert.equal((await aliceDevice.request({ type: 'call.hangup', callId }, 20_000)).type, 'ack');
  const [aliceEnd, bobEnd] = await Promise.all([aliceDevice.next('call.ended'), bobDevice.next('call.ended')]);
  assert.equal(aliceEnd.reason, 'hangup');
  assert.equal(bobEnd.reason, 'hangup');
  assert.equal(await errorCode(bobDevice, { type: 'room.join', roomId }), 'invalid_state', 'the call’s room stays closed');

  const cdr = await waitForCallRecord(callId);
  assert.equal(cdr.end_reason, 'hangup');

  const token = (await login(bob)).accessToken;
  const row = await waitForCompleted(recording!.recordingId, token);
  assert.equal(row.callId, callId, 'the recording names the call');
  assert.equal(row.roomId, roomId);
  assert.equal(row.startedBy.userId, alice.id);
  const tracksOf = (userId: string) =>
    row.tracks
      .filter((t) => t.user?.userId === userId)
      .map((t) => t.codec)
      .sort();
  assert.deepEqual(tracksOf(alice.id), ['audio/opus', 'video/VP8']);
  assert.deepEqual(tracksOf(bob.id), ['audio/opus', 'video/VP8']);
  for (const track of row.tracks) {
    assert.ok(Math.abs(track.durationMs - audio.durationMs) <= 500, `${track.codec} of ${track.user?.displayName}: ${track.durationMs} ms`);
  }
  // Both parties may see it; another user of the tenant may not.
  const listed = async (user: typeof alice) =>
    (await api<{ recordings: RecordingView[] }>('GET', '/api/recordings', { auth: (await login(user)).accessToken })).body.recordings.map((r) => r.id);
  assert.ok((await listed(alice)).includes(row.id));
  assert.ok((await listed(bob)).includes(row.id));
  assert.ok(!(await listed(dave)).includes(row.id));
});

test('a peer-to-peer call names no room and still relays SDP', async () => {
  const { alice, dave } = tenant.users;
  const [aliceDevice, daveDevice] = await Promise.all([device(alice), device(dave)]);
  const callId = crypto.randomUUID();
  assert.equal((await aliceDevice.request({ type: 'call.invite', callId, to: dave.id, media })).type, 'ack');
  assert.equal((await daveDevice.next('call.incoming')).record, false);
  assert.equal((await daveDevice.request({ type: 'call.accept', callId })).type, 'ack');
  assert.equal((await aliceDevice.next('call.accepted')).roomId, undefined);
  aliceDevice.send({ type: 'call.offer', callId, sdp: 'v=0 offer' });
  assert.equal((await daveDevice.next('call.offer')).sdp, 'v=0 offer');
  assert.equal((await aliceDevice.request({ type: 'call.hangup', callId })).type, 'ack');
});

/** The recording row once the node's tracks are in (the room ends it as the call's room closes). */
async function waitForCompleted(recordingId: string, token: string): Promise<RecordingView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = await api<RecordingView>('GET', `/api/recordings/${recordingId}`, { auth: token });
    if (got.status === 200 && got.body.status !== 'recording') {
      assert.equal(got.body.status, 'completed');
      return got.body;
    }
    assert.ok(Date.now() < deadline, `recording ${recordingId} still ${got.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

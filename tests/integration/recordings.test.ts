/**
 * Conference recording through the real edge and media node (ffmpeg on the node): Node clients
 * produce real opus and VP8 over plain transports; the recording's row, its tracks, the files
 * (downloaded through the edge from the node and read by ffprobe), the indicator everyone gets,
 * and who may start, stop and download.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { AuditLogResponse, RecordingsResponse, RecordingView } from '@callstack/protocol';
import { encodeClip, type RtpClip } from '../../media-fleet/src/rtpClip.ts';
import { api, createTenant, login, type TestTenant, type TestUser } from '../lib/fixtures.ts';
import { createRoom, join, producePlain } from '../lib/rooms.ts';
import { devicePool, type SignalingClient } from '../lib/SignalingClient.ts';
import { stack } from '../lib/stack.ts';

const run = promisify(execFile);
const { device, closeAll } = devicePool(() => stack.url, login);
const sockets: Socket[] = [];
const dir = mkdtempSync(joinPath(tmpdir(), 'callstack-recording-test-'));
let tenant: TestTenant;
let audio: RtpClip;
let video: RtpClip;

before(async () => {
  tenant = await createTenant();
  [audio, video] = await Promise.all([encodeClip('audio', 3), encodeClip('video', 3)]);
});
after(async () => {
  await closeAll();
  for (const socket of sockets) socket.close();
  rmSync(dir, { recursive: true, force: true });
});

const produce = (client: SignalingClient, roomId: string, kind: 'audio' | 'video', ssrc: number) => producePlain(client, roomId, kind, ssrc, sockets);

async function token(user: TestUser): Promise<string> {
  return (await login(user)).accessToken;
}

async function errorOf(client: SignalingClient, message: Parameters<SignalingClient['request']>[0]) {
  const answer = await client.request(message);
  assert.equal(answer.type, 'error', `${message.type} should fail`);
  return answer.type === 'error' ? answer : assert.fail();
}

test('record a room: permission, indicator, the row, the files and who may download them', async () => {
  const { alice, bob, carol, dave } = tenant.users; // admin, user (creator), operator, user
  const [bobDevice, daveDevice] = await Promise.all([device(bob), device(dave)]);
  const roomId = await createRoom(bobDevice);
  await join(bobDevice, roomId);
  await join(daveDevice, roomId);

  // Someone who is neither the creator nor an operator/admin may not record.
  const forbidden = await errorOf(daveDevice, { type: 'room.recording.start', roomId });
  assert.equal(forbidden.code, 'forbidden');
  // Nothing published yet: refused at once with a clear error.
  const askedAt = Date.now();
  const empty = await errorOf(bobDevice, { type: 'room.recording.start', roomId });
  assert.equal(empty.code, 'invalid_state');
  assert.match(empty.message, /nothing is published/);
  assert.ok(Date.now() - askedAt < 2000, `refused in ${Date.now() - askedAt} ms`);
  // Dave leaves before the recording: he is not one of its participants.
  assert.equal((await daveDevice.request({ type: 'room.leave', roomId })).type, 'ack');

  const sendAudio = await produce(bobDevice, roomId, 'audio', 0x5001);
  const sendVideo = await produce(bobDevice, roomId, 'video', 0x5002);
  assert.equal((await bobDevice.request({ type: 'room.recording.start', roomId }, 20_000)).type, 'ack');
  const indicator = await bobDevice.next('room.recording', (m) => m.recording !== null);
  assert.equal(indicator.recording!.startedBy.userId, bob.id);
  const again = await errorOf(bobDevice, { type: 'room.recording.start', roomId });
  assert.equal(again.code, 'conflict');

  // A joiner sees the recording in room.joined.
  const aliceDevice = await device(alice);
  const aliceJoined = await join(aliceDevice, roomId);
  assert.deepEqual(aliceJoined.recording, indicator.recording);
  assert.equal(aliceJoined.createdBy, bob.id, 'the view offers the creator the Record button');

  await Promise.all([sendAudio(audio), sendVideo(video)]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await bobDevice.request({ type: 'room.recording.stop', roomId }, 20_000)).type, 'ack');
  for (const client of [bobDevice, aliceDevice]) await client.next('room.recording', (m) => m.recording === null);

  const bobToken = await token(bob);
  const { recordingId } = indicator.recording!;
  const got = await api<RecordingView>('GET', `/api/recordings/${recordingId}`, { auth: bobToken });
  assert.equal(got.status, 200);
  const recording = got.body;
  assert.equal(recording.status, 'completed');
  assert.equal(recording.roomId, roomId);
  assert.equal(recording.startedBy.userId, bob.id);
  assert.ok(recording.endedAt && Date.parse(recording.endedAt) > Date.parse(recording.startedAt));
  assert.ok(recording.durationMs >= audio.durationMs, `recording lasted ${recording.durationMs} ms`);
  assert.equal(recording.tracks.length, 2);
  assert.equal(
    recording.sizeBytes,
    recording.tracks.reduce((sum, t) => sum + t.sizeBytes, 0),
  );
  assert.ok(recording.tracks.every((t) => t.user?.userId === bob.id && t.sizeBytes > 1000));

  const expected = { 'audio/opus': { codec: 'opus', ms: audio.durationMs }, 'video/VP8': { codec: 'vp8', ms: video.durationMs } };
  for (const track of recording.tracks) {
    const want = expected[track.codec as keyof typeof expected];
    assert.ok(want, `unexpected codec ${track.codec}`);
    const file = await fetch(`${stack.url}${track.downloadPath}`, { headers: { authorization: `Bearer ${bobToken}` } });
    assert.equal(file.status, 200);
    assert.match(file.headers.get('content-disposition') ?? '', /attachment; filename="[0-9a-f-]{36}\.(ogg|webm)"/);
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.length, track.sizeBytes);
    const path = joinPath(dir, `${track.trackId}.${track.kind === 'audio' ? 'ogg' : 'webm'}`);
    writeFileSync(path, bytes);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', path]);
    const probed = JSON.parse(stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
    assert.equal(probed.streams.map((s) => s.codec_name).join(), want.codec);
    const ms = Number(probed.format.duration) * 1000;
    assert.ok(Math.abs(ms - want.ms) <= 500, `${track.codec}: ${ms} ms in the file, ${want.ms} ms sent`);
    assert.ok(Math.abs(track.durationMs - ms) <= 50, 'the row says what ffprobe says');
  }

  // Who may download: participants and read_all roles; not another user; another tenant: 404.
  const downloadPath = recording.tracks[0]!.downloadPath;
  const statusOf = async (user: TestUser, path = downloadPath) => {
    const response = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${await token(user)}` } });
    await response.arrayBuffer();
    return response.status;
  };
  assert.equal(await statusOf(alice), 200, 'an admin (and participant)');
  assert.equal(await statusOf(carol), 200, 'an operator who was not there');
  assert.equal(await statusOf(dave), 403, 'a user who was not there');
  assert.equal(await statusOf(dave, `/api/recordings/${recordingId}`), 403);
  const stranger = (await createTenant()).users.alice;
  assert.equal(await statusOf(stranger), 404, 'another tenant’s admin');
  assert.equal(await statusOf(stranger, `/api/recordings/${recordingId}`), 404);

  const listed = async (user: TestUser) =>
    (await api<RecordingsResponse>('GET', '/api/recordings', { auth: await token(user) })).body.recordings.map((r) => r.id);
  assert.ok((await listed(bob)).includes(recordingId));
  assert.ok((await listed(carol)).includes(recordingId));
  assert.ok(!(await listed(dave)).includes(recordingId));

  const audit = await api<AuditLogResponse>('GET', `/api/admin/audit?target=${recordingId}`, { auth: await token(alice) });
  const actions = audit.body.entries.map((e) => e.action);
  for (const action of ['recording.started', 'recording.stopped', 'recording.downloaded'])
    assert.ok(actions.includes(action), `${action} in ${actions.join()}`);
});

test('a recording ends, completed, when everyone leaves the room', async () => {
  const { carol } = tenant.users;
  const carolDevice = await device(carol);
  const roomId = await createRoom(carolDevice);
  await join(carolDevice, roomId);
  const sendAudio = await produce(carolDevice, roomId, 'audio', 0x6001);
  assert.equal((await carolDevice.request({ type: 'room.recording.start', roomId }, 20_000)).type, 'ack');
  const { recording } = await carolDevice.next('room.recording', (m) => m.recording !== null);
  await sendAudio({ ...audio, packets: audio.packets.slice(0, 50) });
  assert.equal((await carolDevice.request({ type: 'room.leave', roomId }, 20_000)).type, 'ack');
  const row = await api<RecordingView>('GET', `/api/recordings/${recording!.recordingId}`, { auth: await token(carol) });
  assert.equal(row.body.status, 'completed');
  assert.equal(row.body.tracks.length, 1);
  assert.ok(Math.abs(row.body.tracks[0]!.durationMs - 1000) <= 300, `${row.body.tracks[0]!.durationMs} ms`);
});

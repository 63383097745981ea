/**
 * Recording through the control API with real ffmpeg: RTP sent from Node (real opus and VP8 that
 * ffmpeg encoded, replayed in real time) into plain send transports is recorded into one file per
 * producer; ffprobe reads each file's codec and duration. Covers an empty room (refused at once),
 * a producer that arrives and closes mid-recording, two rooms recorded at once, the signed file
 * download, and the metrics.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { recordingFilePath, type ProducerSource, type RecordedTrack, type TransportCreated } from '@callstack/protocol';
import { encodeClip, sendClip, type RtpClip } from './rtpClip.ts';
import { eventually, startService, udpSocket, type Service } from './testHarness.ts';

const run = promisify(execFile);
const sockets: Socket[] = [];
const dir = mkdtempSync(join(tmpdir(), 'callstack-recordings-'));
let service: Service;
let audio: RtpClip;
let video: RtpClip;

before(async () => {
  service = await startService({ MEDIA_RECORDINGS_DIR: dir });
  [audio, video] = await Promise.all([encodeClip('audio', 3), encodeClip('video', 3)]);
});

after(async () => {
  for (const socket of sockets) socket.close();
  await service.close();
  rmSync(dir, { recursive: true, force: true });
});

const OPUS = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 };
const VP8 = { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 };

async function sender(roomId: string, peerId: string) {
  await service.call({ type: 'peer.join', roomId, peerId });
  const transport = (await service.call({ type: 'transport.create', roomId, peerId, direction: 'send', transport: 'plain' })) as Extract<
    TransportCreated,
    { transport: 'plain' }
  >;
  const socket = await udpSocket(sockets);
  return {
    async produce(kind: 'audio' | 'video', source: ProducerSource, ssrc: number) {
      const codec = kind === 'audio' ? OPUS : VP8;
      const { producerId } = await service.call({
        type: 'producer.create',
        roomId,
        peerId,
        transportId: transport.transportId,
        kind,
        source,
        rtpParameters: { codecs: [codec], encodings: [{ ssrc }] },
      });
      return { producerId, send: (clip: RtpClip) => sendClip(clip, socket, transport, { ssrc, payloadType: codec.payloadType }) };
    },
  };
}

async function probe(path: string): Promise<{ codec: string; seconds: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', path]);
  const parsed = JSON.parse(stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
  return { codec: parsed.streams.map((s) => s.codec_name).join(','), seconds: Number(parsed.format.duration) };
}

function near(actualMs: number, expectedMs: number, what: string, toleranceMs = 400): void {
  assert.ok(Math.abs(actualMs - expectedMs) <= toleranceMs, `${what}: ${actualMs} ms, expected ${expectedMs} ± ${toleranceMs}`);
}

test('nothing published: recording.start fails at once with invalid_state and leaves nothing running', async () => {
  await service.call({ type: 'room.create', roomId: 'empty' });
  await service.call({ type: 'peer.join', roomId: 'empty', peerId: 'alone' });
  const started = Date.now();
  const refused = await service.raw('POST', '/control/rooms/empty/recordings', JSON.stringify({ recordingId: 'rec-empty' }));
  assert.equal(refused.status, 409);
  assert.deepEqual((refused.body as { error: { code: string } }).error.code, 'invalid_state');
  assert.match((refused.body as { error: { message: string } }).error.message, /nothing is published/);
  assert.ok(Date.now() - started < 1000, 'refused at once');
  assert.equal(service.node.activeRecordings, 0);
  const unknownRoom = await service.raw('POST', '/control/rooms/nope/recordings', JSON.stringify({ recordingId: 'rec-x' }));
  assert.equal(unknownRoom.status, 404);
  await service.call({ type: 'room.close', roomId: 'empty' });
});

test('audio, video and a screen share that comes and goes mid-recording each become a file of the right codec and length', async () => {
  await service.call({ type: 'room.create', roomId: 'conf' });
  await service.call({ type: 'room.create', roomId: 'other' });
  const alice = await sender('conf', 'alice');
  const mic = await alice.produce('audio', 'mic', 0x1001);
  const camera = await alice.produce('video', 'camera', 0x1002);
  // A second room recorded at the same time: its ffmpeg gets its own ports.
  const carol = await sender('other', 'carol');
  const carolMic = await carol.produce('audio', 'mic', 0x3001);

  const started = await service.call({ type: 'recording.start', roomId: 'conf', recordingId: 'rec-conf' });
  assert.equal(started.tracks, 2);
  assert.equal((await service.call({ type: 'recording.start', roomId: 'other', recordingId: 'rec-other' })).tracks, 1);
  const again = await service.raw('POST', '/control/rooms/conf/recordings', JSON.stringify({ recordingId: 'rec-conf-2' }));
  assert.equal((again.body as { error: { code: string } }).error.code, 'conflict', 'one recording per room');
  assert.equal(service.node.activeRecordings, 2);

  const bob = await sender('conf', 'bob');
  const screenShare = async () => {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const screen = await bob.produce('video', 'screen', 0x2001);
    // Node cannot answer the recorder's key frame request: send once its track records.
    await eventually(
      () => service.node.recordings.get('rec-conf')!.liveTracks,
      (count) => count === 3,
      'the screen share track',
    );
    await screen.send({ ...video, packets: video.packets.slice(0, Math.floor(video.packets.length / 2)) });
    await service.call({ type: 'producer.close', roomId: 'conf', peerId: 'bob', producerId: screen.producerId });
    return screen.producerId;
  };
  const [, , screenId] = await Promise.all([mic.send(audio), camera.send(video), screenShare(), carolMic.send(audio)]);
  await new Promise((resolve) => setTimeout(resolve, 200));

  const stopped = await service.call({ type: 'recording.stop', roomId: 'conf', recordingId: 'rec-conf' });
  assert.equal(stopped.reason, 'stopped');
  assert.ok(stopped.endedAt >= stopped.startedAt);
  const byProducer = new Map(stopped.tracks.map((track) => [track.producerId, track]));
  assert.deepEqual([...byProducer.keys()].sort(), [mic.producerId, camera.producerId, screenId].sort());
  const expected: [string, { codec: string; extension: string; source: string; durationMs: number }][] = [
    [mic.producerId, { codec: 'opus', extension: 'ogg', source: 'mic', durationMs: audio.durationMs }],
    [camera.producerId, { codec: 'vp8', extension: 'webm', source: 'camera', durationMs: video.durationMs }],
    [screenId, { codec: 'vp8', extension: 'webm', source: 'screen', durationMs: video.durationMs / 2 }],
  ];
  for (const [producerId, want] of expected) {
    const track: RecordedTrack = byProducer.get(producerId)!;
    const path = join(dir, track.key);
    assert.equal(track.key, `rec-conf/${track.trackId}.${want.extension}`);
    assert.equal(track.storage, 'local');
    assert.equal(track.source, want.source);
    assert.equal(track.sizeBytes, statSync(path).size);
    assert.ok(track.sizeBytes > 1000, `${want.source}: ${track.sizeBytes} bytes`);
    const probed = await probe(path);
    assert.equal(probed.codec, want.codec);
    near(probed.seconds * 1000, want.durationMs, `${want.source} file`);
    near(track.durationMs, want.durationMs, `${want.source} reported`);
  }
  // The screen share's file ended with its producer, well before the recording stopped.
  assert.ok(byProducer.get(screenId)!.endedAt < stopped.endedAt - 500);
  assert.deepEqual(await service.call({ type: 'recording.stop', roomId: 'conf', recordingId: 'rec-conf' }), stopped, 'stop again: the same answer');

  const other = await service.call({ type: 'recording.stop', roomId: 'other', recordingId: 'rec-other' });
  assert.equal(other.tracks.length, 1);
  near(other.tracks[0]!.durationMs, audio.durationMs, 'the other room');
  assert.equal(service.node.activeRecordings, 0);

  // The edge fetches a file with a signed GET; the bytes are the file's.
  const micTrack = byProducer.get(mic.producerId)!;
  const file = await service.raw('GET', recordingFilePath('rec-conf', micTrack.fileName));
  assert.equal(file.status, 200);
  assert.equal((file.body as string).length > 0, true);
  const unsigned = await fetch(service.url + recordingFilePath('rec-conf', micTrack.fileName));
  assert.equal(unsigned.status, 401);
  assert.equal((await service.raw('GET', '/control/recordings/rec-conf/files/..%2F..%2Fetc%2Fpasswd')).status, 404);
  assert.equal((await service.raw('GET', recordingFilePath('rec-conf', `${crypto.randomUUID()}.ogg`))).status, 404);

  const metrics = await service.raw('GET', '/metrics');
  const recorded = Number(/^callstack_media_recorded_bytes_total (\d+)/m.exec(metrics.body as string)?.[1]);
  assert.equal(
    recorded,
    [...stopped.tracks, ...other.tracks].reduce((sum, t) => sum + t.sizeBytes, 0),
  );
  assert.match(metrics.body as string, /^callstack_media_recordings_active 0$/m);
  await service.call({ type: 'room.close', roomId: 'conf' });
  await service.call({ type: 'room.close', roomId: 'other' });
});

test('a room that closes while recording ends the recording; stop then answers with its tracks', async () => {
  await service.call({ type: 'room.create', roomId: 'closing' });
  const dave = await sender('closing', 'dave');
  const mic = await dave.produce('audio', 'mic', 0x4001);
  await service.call({ type: 'recording.start', roomId: 'closing', recordingId: 'rec-closing' });
  await mic.send({ ...audio, packets: audio.packets.slice(0, 50) });
  await service.call({ type: 'room.close', roomId: 'closing' });
  const stopped = await service.call({ type: 'recording.stop', roomId: 'closing', recordingId: 'rec-closing' });
  assert.equal(stopped.reason, 'room-closed');
  assert.equal(stopped.tracks.length, 1);
  near(stopped.tracks[0]!.durationMs, 1000, 'one second of audio');
});

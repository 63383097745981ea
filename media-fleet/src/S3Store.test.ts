/**
 * S3 storage against the signature-checking stand-in (test/s3StandIn.ts): a recording made with
 * `MEDIA_RECORDINGS_S3_*` lands in the bucket, a refused upload keeps the local file, and the
 * presigned GET the edge redirects downloads to (protocol's presignUrl, as in
 * edge/src/recordings/routes.ts) fetches the bytes until it expires.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { presignUrl, s3ObjectUrl, signRequestHeaders, UNSIGNED_PAYLOAD, type TransportCreated } from '@callstack/protocol';
import { startS3StandIn, type S3StandIn } from '../test/s3StandIn.ts';
import { encodeClip, sendClip } from './rtpClip.ts';
import { S3Store } from './S3Store.ts';
import { startService, udpSocket, type Service } from './testHarness.ts';

const run = promisify(execFile);
const BUCKET = 'recordings';
const REGION = 'eu-west-3';
const credentials = { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in/secret+key' };
const dir = mkdtempSync(join(tmpdir(), 'callstack-s3-'));
const sockets: Socket[] = [];
let s3: S3StandIn;
let service: Service;

before(async () => {
  s3 = await startS3StandIn({ bucket: BUCKET, region: REGION, keys: { [credentials.accessKeyId]: credentials.secretAccessKey } });
  service = await startService({
    MEDIA_RECORDINGS_DIR: dir,
    MEDIA_RECORDINGS_S3_BUCKET: BUCKET,
    MEDIA_RECORDINGS_S3_ENDPOINT: s3.url,
    MEDIA_RECORDINGS_S3_REGION: REGION,
    MEDIA_RECORDINGS_S3_ACCESS_KEY_ID: credentials.accessKeyId,
    MEDIA_RECORDINGS_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
});

after(async () => {
  for (const socket of sockets) socket.close();
  await service.close();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

const settings = (secretAccessKey: string) => ({ endpoint: s3.url, bucket: BUCKET, region: REGION, credentials: { ...credentials, secretAccessKey } });

test('a recorded track is uploaded with a signed PUT: the bucket holds the ogg file, the local copy is gone', async () => {
  await service.call({ type: 'room.create', roomId: 's3' });
  await service.call({ type: 'peer.join', roomId: 's3', peerId: 'erin' });
  const transport = (await service.call({ type: 'transport.create', roomId: 's3', peerId: 'erin', direction: 'send', transport: 'plain' })) as Extract<
    TransportCreated,
    { transport: 'plain' }
  >;
  const OPUS = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 };
  const { producerId } = await service.call({
    type: 'producer.create',
    roomId: 's3',
    peerId: 'erin',
    transportId: transport.transportId,
    kind: 'audio',
    source: 'mic',
    rtpParameters: { codecs: [OPUS], encodings: [{ ssrc: 0x5001 }] },
  });
  await service.call({ type: 'recording.start', roomId: 's3', recordingId: 'rec-s3' });
  const clip = await encodeClip('audio', 1);
  await sendClip(clip, await udpSocket(sockets), transport, { ssrc: 0x5001, payloadType: OPUS.payloadType });
  const { tracks } = await service.call({ type: 'recording.stop', roomId: 's3', recordingId: 'rec-s3' });
  await service.call({ type: 'room.close', roomId: 's3' });

  assert.equal(tracks.length, 1);
  const track = tracks[0]!;
  assert.equal(track.producerId, producerId);
  assert.equal(track.storage, 's3');
  assert.equal(track.key, `rec-s3/${track.trackId}.ogg`);
  assert.equal(existsSync(join(dir, track.key)), false, 'removed from disk once stored');
  const stored = s3.objects.get(track.key);
  assert.ok(stored, `the bucket holds ${track.key}`);
  assert.equal(stored.body.length, track.sizeBytes);
  assert.equal(stored.contentType, 'audio/ogg');
  const copy = join(dir, 'downloaded.ogg');
  writeFileSync(copy, stored.body);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', copy]);
  assert.equal(stdout.trim(), 'opus');
  assert.deepEqual(s3.refusals, []);
});

test('a refused upload (wrong secret) fails with the 403 and keeps the file; the right secret stores its exact bytes', async () => {
  const file = join(dir, 'track.webm');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1', '-c:v', 'libvpx', file]);
  const bytes = readFileSync(file);
  const key = 'rec-2/a b+c.webm';

  await assert.rejects(new S3Store(settings('not the secret')).put(key, file, 'video/webm'), /answered 403: .*<Code>SignatureDoesNotMatch<\/Code>/s);
  assert.deepEqual(readFileSync(file), bytes, 'the local file is kept');
  assert.equal(s3.objects.has(key), false);

  await new S3Store(settings(credentials.secretAccessKey)).put(key, file, 'video/webm');
  assert.deepEqual(s3.objects.get(key)?.body, bytes);
  assert.equal(existsSync(file), false);
});

test("the edge's presigned download URL fetches the object until it expires; a changed one, a stale PUT and an unknown key are refused", async () => {
  const key = 'rec-3/track.ogg';
  s3.objects.set(key, { body: Buffer.from('recorded bytes'), contentType: 'audio/ogg' });
  const scope = (now: Date, secretAccessKey = credentials.secretAccessKey) => ({
    region: REGION,
    service: 's3',
    credentials: { ...credentials, secretAccessKey },
    now,
  });
  const url = await presignUrl({ method: 'GET', url: s3ObjectUrl(s3.url, BUCKET, key), expiresSeconds: 300 }, scope(new Date()));
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'recorded bytes');

  const refused = async (response: Response) =>
    `${response.status} ${/<Code>(\w+)<\/Code><Message>([^<]*)/
      .exec(await response.text())
      ?.slice(1)
      .join(': ')}`;
  const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  assert.match(await refused(await fetch(tampered)), /^403 SignatureDoesNotMatch/);
  assert.match(await refused(await fetch(url.replace('X-Amz-Expires=300', 'X-Amz-Expires=3000'))), /^403 SignatureDoesNotMatch/);
  const expired = await presignUrl({ method: 'GET', url: s3ObjectUrl(s3.url, BUCKET, key), expiresSeconds: 300 }, scope(new Date(Date.now() - 301_000)));
  assert.equal(await refused(await fetch(expired)), '403 AccessDenied: Request has expired');
  const wrongSecret = await presignUrl({ method: 'GET', url: s3ObjectUrl(s3.url, BUCKET, key), expiresSeconds: 300 }, scope(new Date(), 'guess'));
  assert.match(await refused(await fetch(wrongSecret)), /^403 SignatureDoesNotMatch/);

  const put = async (now: Date, accessKeyId = credentials.accessKeyId) => {
    const objectUrl = s3ObjectUrl(s3.url, BUCKET, 'rec-3/late.ogg');
    const headers = { 'content-length': '4', 'x-amz-content-sha256': UNSIGNED_PAYLOAD };
    const signed = await signRequestHeaders(
      { method: 'PUT', url: objectUrl, headers, payloadHash: UNSIGNED_PAYLOAD },
      { ...scope(now), credentials: { ...credentials, accessKeyId } },
    );
    return refused(await fetch(objectUrl, { method: 'PUT', headers: { ...headers, ...signed }, body: 'late' }));
  };
  assert.match(await put(new Date(Date.now() - 16 * 60_000)), /^403 RequestTimeTooSkewed/);
  assert.match(await put(new Date(), 'AKIDUNKNOWN'), /^403 InvalidAccessKeyId/);
  assert.equal(s3.objects.has('rec-3/late.ogg'), false);
});

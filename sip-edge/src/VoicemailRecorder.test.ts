/** The voicemail recorder against a real ffmpeg: G.711 RTP in, an Ogg Opus file ffprobe measures out. */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { recorderCodecFor, VoicemailRecorder } from './VoicemailRecorder.ts';

const offer = (formats: string) => `v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP ${formats}\r\n`;

test("the recorder takes the carrier's first G.711 codec, in its order, or none (rtpengine transcodes)", () => {
  assert.deepEqual(recorderCodecFor(offer('8 0 101')), { payloadType: 8, name: 'PCMA' });
  assert.deepEqual(recorderCodecFor(offer('9 0 8')), { payloadType: 0, name: 'PCMU' });
  assert.equal(recorderCodecFor(offer('9 111 101')), null);
  assert.equal(recorderCodecFor('not sdp'), null);
});

test('2 s of PCMU in 20 ms packets become a message of 2 s; nothing sent is a message of nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-recorder-test-'));
  const log = pino({ level: 'silent' });
  const recorder = await VoicemailRecorder.reserve({
    ip: '127.0.0.1',
    ports: { min: 45000, max: 45999 },
    codec: { payloadType: 0, name: 'PCMU' },
    path: join(dir, 't1/c1.ogg'),
    log,
  });
  assert.match(recorder.sdp, new RegExp(`m=audio ${recorder.port} RTP/AVP 0`));
  await recorder.record(60);
  await new Promise((resolve) => setTimeout(resolve, 500)); // ffmpeg binds its port
  const socket = createSocket('udp4');
  const payload = Buffer.alloc(160, 0xff); // µ-law silence
  for (let seq = 0; seq < 100; seq++) {
    const header = Buffer.from([0x80, 0, seq >> 8, seq & 0xff, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]);
    header.writeUInt32BE(seq * 160, 4);
    socket.send(Buffer.concat([header, payload]), recorder.port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  socket.close();
  const message = await recorder.finish();
  assert.ok(Math.abs(message.durationMs - 2000) <= 200, `duration ${message.durationMs} ms`);
  assert.ok(message.sizeBytes > 0);

  const silent = await VoicemailRecorder.reserve({
    ip: '127.0.0.1',
    ports: { min: 45000, max: 45999 },
    codec: { payloadType: 8, name: 'PCMA' },
    path: join(dir, 't1/c2.ogg'),
    log,
  });
  await silent.record(60);
  assert.equal((await silent.finish()).durationMs, 0);
  await silent.discard();
  assert.equal(existsSync(join(dir, 't1/c2.ogg')), false);
});

/**
 * The mediasoup worker built by `npm run build:worker -w media-fleet` (Debian libraries, see
 * scripts/buildWorker.mjs) really runs and really forwards media: a Router with opus + VP8, a
 * WebRtcTransport on 127.0.0.1, and RTP sent with node:dgram into one PlainTransport (comedia)
 * coming out of another PlainTransport onto a UDP socket, rewritten for the consumer.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createWorker, version, workerBin, type types } from 'mediasoup';

const LOCALHOST = '127.0.0.1';
const mediaCodecs: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: {} },
];

let worker: types.Worker;
let router: types.Router;
const sockets: Socket[] = [];

function udpSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    socket.once('error', reject);
    socket.bind(0, LOCALHOST, () => resolve(socket));
  });
}

/** A minimal RTP packet (RFC 3550 fixed header, no CSRC/extensions). */
function rtpPacket(payloadType: number, seq: number, timestamp: number, ssrc: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80; // V=2
  header[1] = payloadType & 0x7f;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(timestamp, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

/** The payload of an RTP packet: after the CSRC list and the header extension, if any. */
function rtpPayload(packet: Buffer): Buffer {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  return packet.subarray(offset, packet.length - padding);
}

before(async () => {
  assert.equal(version, '3.12.16');
  assert.ok(existsSync(workerBin), `no mediasoup worker at ${workerBin}: run \`npm run build:worker -w media-fleet\` first`);
  worker = await createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  worker.on('died', (error) => assert.fail(`mediasoup worker died: ${error}`));
  router = await worker.createRouter({ mediaCodecs });
});

after(async () => {
  for (const socket of sockets) socket.close();
  if (!worker || worker.closed) return;
  const pid = worker.pid;
  worker.close();
  assert.ok(worker.closed);
  // The child process must actually go away (close() sends SIGTERM).
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    if (Date.now() > deadline) assert.fail(`mediasoup-worker pid ${pid} still alive 3 s after close()`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

test('router has opus and VP8', () => {
  const mimeTypes = router.rtpCapabilities.codecs?.map((codec) => codec.mimeType) ?? [];
  assert.ok(mimeTypes.includes('audio/opus'), mimeTypes.join());
  assert.ok(mimeTypes.includes('video/VP8'), mimeTypes.join());
});

test('WebRtcTransport listens on 127.0.0.1 with ICE and DTLS parameters', async () => {
  const transport = await router.createWebRtcTransport({ listenIps: [{ ip: LOCALHOST }], enableUdp: true, enableTcp: true, preferUdp: true });
  try {
    assert.ok(transport.iceParameters.usernameFragment.length > 0);
    assert.ok(transport.iceParameters.password.length > 0);
    assert.ok(transport.dtlsParameters.fingerprints.some((f) => f.algorithm === 'sha-256' && /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(f.value)));
    assert.ok(transport.iceCandidates.length >= 2); // udp + tcp
    for (const candidate of transport.iceCandidates) {
      assert.equal(candidate.ip, LOCALHOST);
      assert.ok(candidate.port >= 40000 && candidate.port <= 49999, String(candidate.port));
    }
    assert.equal(transport.iceState, 'new');
    assert.equal(transport.dtlsState, 'new');
  } finally {
    transport.close();
  }
});

test('RTP produced on one PlainTransport is forwarded out of another', async () => {
  const inbound = await router.createPlainTransport({ listenIp: { ip: LOCALHOST }, rtcpMux: true, comedia: true });
  const outbound = await router.createPlainTransport({ listenIp: { ip: LOCALHOST }, rtcpMux: true, comedia: false });
  const sender = await udpSocket();
  const receiver = await udpSocket();
  await outbound.connect({ ip: LOCALHOST, port: receiver.address().port });

  const sendSsrc = 0x11223344;
  const sendPt = 101;
  const producer = await inbound.produce({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: sendPt, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: sendSsrc }],
    },
  });
  const consumer = await outbound.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  assert.equal(consumer.kind, 'audio');
  assert.equal(consumer.paused, false);
  const outPt = consumer.rtpParameters.codecs[0]!.payloadType;
  const outSsrc = consumer.rtpParameters.encodings![0]!.ssrc!;

  const count = 10;
  const received: Buffer[] = [];
  const allReceived = new Promise<void>((resolve) => {
    receiver.on('message', (msg) => {
      if (msg.length < 12 || (msg[1]! & 0x7f) !== outPt) return; // ignore RTCP
      received.push(msg);
      if (received.length === count) resolve();
    });
  });

  // 20 ms opus frames; the payload is opaque to the SFU (the first byte is a valid opus TOC).
  const payloads: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.concat([Buffer.from([0x78]), Buffer.from(`callstack-frame-${i}`)]);
    payloads.push(payload);
    const packet = rtpPacket(sendPt, 1000 + i, 960 * i, sendSsrc, payload);
    await new Promise<void>((resolve, reject) => sender.send(packet, inbound.tuple.localPort, LOCALHOST, (err) => (err ? reject(err) : resolve())));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    allReceived,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${received.length}/${count} RTP packets forwarded within 3 s`)), 3000);
    }),
  ]).finally(() => clearTimeout(timer));

  // comedia learnt the sender's address from the first packet.
  assert.equal(inbound.tuple.remotePort, sender.address().port);

  for (const [i, packet] of received.entries()) {
    assert.equal(packet[0]! >> 6, 2, 'RTP version');
    assert.equal(packet.readUInt32BE(8), outSsrc, 'consumer SSRC');
    // The payload is forwarded byte for byte (the header may gain extensions).
    assert.deepEqual(rtpPayload(packet), payloads[i]);
  }
  // Sequence numbers are rewritten but stay consecutive.
  for (let i = 1; i < received.length; i++) {
    assert.equal(received[i]!.readUInt16BE(2), (received[i - 1]!.readUInt16BE(2) + 1) & 0xffff);
  }

  const stats = await producer.getStats();
  assert.equal(stats[0]?.packetCount, count);

  inbound.close();
  outbound.close();
  assert.ok(producer.closed && consumer.closed);
});

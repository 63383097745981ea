/**
 * Media through the service without a browser: Node has no DTLS client, so these tests use the
 * node's `plain` transports (MEDIA_PLAIN_TRANSPORTS=true, unencrypted RTP) and send RTP with
 * node:dgram. What WebRTC adds on top (ICE, DTLS-SRTP, simulcast layers from a real encoder) waits
 * for the browser tests.
 *
 * With two workers and a budget of one consumer per worker, the second listener's recv transport
 * lands on the other worker and the producer reaches it through pipeToRouter. Events go to a fake
 * edge that checks their signatures.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { CONTROL_SIGNATURE_HEADER, verifyControlSignature, type MediaNodeEvent, type TransportCreated } from '@callstack/protocol';
import { SECRET, eventually, startService, udpSocket, type Service } from './testHarness.ts';

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const sockets: Socket[] = [];
const events: MediaNodeEvent[] = [];
let edge: Server;
let service: Service;

before(async () => {
  // The fake edge accepts only correctly signed events.
  edge = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', async () => {
      const check = await verifyControlSignature(SECRET, req.headers[CONTROL_SIGNATURE_HEADER] as string, { method: req.method!, path: req.url!, body });
      if (check.ok && req.url === '/api/fleet/events') events.push(JSON.parse(body) as MediaNodeEvent);
      res.writeHead(check.ok ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
  service = await startService({
    MEDIA_WORKERS: '2',
    MEDIA_CONSUMERS_PER_WORKER: '1',
    EDGE_URL: `http://127.0.0.1:${(edge.address() as AddressInfo).port}`,
  });
});

after(async () => {
  for (const socket of sockets) socket.close();
  await service.close();
  edge.closeAllConnections();
  edge.close();
});

/** RTP with the one-byte ssrc-audio-level extension (id 1): level 10 means -10 dBov, loud. */
function rtpPacket(seq: number, ssrc: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x90; // V=2, X=1
  header[1] = 100;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(960 * seq, 4);
  header.writeUInt32BE(ssrc, 8);
  const extension = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0x80 | 10, 0x00, 0x00]);
  return Buffer.concat([header, extension, payload]);
}

function payloadOf(packet: Buffer): Buffer {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return packet.subarray(offset);
}

async function listener(roomId: string, peerId: string, producerId: string) {
  await service.call({ type: 'peer.join', roomId, peerId });
  const transport = (await service.call({ type: 'transport.create', roomId, peerId, direction: 'recv', transport: 'plain' })) as Extract<
    TransportCreated,
    { transport: 'plain' }
  >;
  const socket = await udpSocket(sockets);
  await service.call({
    type: 'transport.connect',
    roomId,
    peerId,
    transportId: transport.transportId,
    connect: { transport: 'plain', ip: '127.0.0.1', port: socket.address().port },
  });
  const received: Buffer[] = [];
  socket.on('message', (message) => {
    if ((message[1]! & 0x7f) < 64 || (message[1]! & 0x7f) > 95) received.push(message); // skip RTCP
  });
  const { rtpCapabilities } = await service.call({ type: 'room.create', roomId });
  const consumer = await service.call({ type: 'consumer.create', roomId, peerId, transportId: transport.transportId, producerId, rtpCapabilities });
  return { consumer, received };
}

test('RTP from one peer reaches listeners on both workers (pipeToRouter past the budget), with events to the edge', async () => {
  await service.call({ type: 'room.create', roomId: 'conf' });
  await service.call({ type: 'peer.join', roomId: 'conf', peerId: 'alice' });
  const send = (await service.call({ type: 'transport.create', roomId: 'conf', peerId: 'alice', direction: 'send', transport: 'plain' })) as Extract<
    TransportCreated,
    { transport: 'plain' }
  >;
  const ssrc = 0x0a0b0c0d;
  const { producerId } = await service.call({
    type: 'producer.create',
    roomId: 'conf',
    peerId: 'alice',
    transportId: send.transportId,
    kind: 'audio',
    source: 'mic',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc }],
      headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: 1 }],
    },
  });

  const bob = await listener('conf', 'bob', producerId);
  const carol = await listener('conf', 'carol', producerId);
  for (const { consumer } of [bob, carol]) {
    assert.equal(consumer.paused, true, 'consumers start paused');
    assert.equal(consumer.producerPeerId, 'alice');
    assert.equal(consumer.source, 'mic');
    assert.equal(consumer.kind, 'audio');
  }
  // Bob filled the first worker's budget: the room now has a router on each worker.
  const room = service.node.rooms.get('conf')!;
  assert.equal(room.workerPids.length, 2);
  const loads = service.node.status().workerLoad;
  assert.ok(
    loads.every((load) => load.consumers >= 1),
    JSON.stringify(loads),
  );

  for (const peerId of ['bob', 'carol']) {
    const { consumer } = peerId === 'bob' ? bob : carol;
    await service.call({ type: 'consumer.resume', roomId: 'conf', peerId, consumerId: consumer.consumerId });
  }
  const sender = await udpSocket(sockets);
  const payloads = Array.from({ length: 60 }, (_, i) => Buffer.from([0x78, ...Buffer.from(`frame-${i}`)]));
  for (const [i, payload] of payloads.entries()) {
    sender.send(rtpPacket(1000 + i, ssrc, payload), send.port, send.ip);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const [name, { received, consumer }] of Object.entries({ bob, carol })) {
    await eventually(
      () => received.length,
      (count) => count === payloads.length,
      `${name}'s packets`,
    );
    const outSsrc = (consumer.rtpParameters.encodings as { ssrc: number }[])[0]!.ssrc;
    for (const [i, packet] of received.entries()) {
      assert.equal(packet.readUInt32BE(8), outSsrc, `${name}: consumer SSRC`);
      assert.deepEqual(payloadOf(packet), payloads[i], `${name}: payload ${i}`);
    }
  }

  await eventually(
    () => events,
    (list) => list.some((e) => e.type === 'speaker.changed' && e.peerId === 'alice'),
    'speaker.changed',
  );
  await service.call({ type: 'peer.leave', roomId: 'conf', peerId: 'alice' });
  await service.call({ type: 'peer.leave', roomId: 'conf', peerId: 'bob' });
  await service.call({ type: 'peer.leave', roomId: 'conf', peerId: 'carol' });
  await eventually(
    () => events,
    (list) => list.some((e) => e.type === 'room.empty'),
    'room.empty',
  );
  const closed = events.find((e) => e.type === 'producer.closed');
  assert.deepEqual(closed && { ...closed, at: 0 }, {
    type: 'producer.closed',
    nodeId: 'test-node',
    at: 0,
    roomId: 'conf',
    peerId: 'alice',
    producerId,
    reason: 'peer-left',
  });
  // mediasoup keeps the pipe transport pair between the two routers for reuse until the room closes.
  const status = service.node.status();
  assert.deepEqual([status.peers, status.transports, status.producers, status.consumers], [0, 2, 0, 0]);
  await service.call({ type: 'room.close', roomId: 'conf' });
  const closedStatus = service.node.status();
  assert.deepEqual([closedStatus.rooms, closedStatus.transports], [0, 0]);
  assert.deepEqual(
    closedStatus.workerLoad.map((load) => load.routers),
    [0, 0],
  );
});

test('producer and consumer pause/resume, layers only for simulcast, wrong transport direction is invalid_state', async () => {
  await service.call({ type: 'room.create', roomId: 'ctl' });
  await service.call({ type: 'peer.join', roomId: 'ctl', peerId: 'p' });
  const sendT = (await service.call({ type: 'transport.create', roomId: 'ctl', peerId: 'p', direction: 'send', transport: 'plain' })).transportId;
  const recvT = (await service.call({ type: 'transport.create', roomId: 'ctl', peerId: 'p', direction: 'recv', transport: 'plain' })).transportId;
  const rtpParameters = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 1111 }] };
  const { producerId } = await service.call({
    type: 'producer.create',
    roomId: 'ctl',
    peerId: 'p',
    transportId: sendT,
    kind: 'video',
    source: 'screen',
    rtpParameters,
  });
  const wrongWay = await service.raw(
    'POST',
    '/control/rooms/ctl/peers/p/produce',
    JSON.stringify({ transportId: recvT, kind: 'video', source: 'camera', rtpParameters }),
  );
  assert.equal((wrongWay.body as { error: { code: string } }).error.code, 'invalid_state');
  const micVideo = await service.raw(
    'POST',
    '/control/rooms/ctl/peers/p/produce',
    JSON.stringify({ transportId: sendT, kind: 'video', source: 'mic', rtpParameters }),
  );
  assert.equal(micVideo.status, 400);

  await service.call({ type: 'producer.pause', roomId: 'ctl', peerId: 'p', producerId });
  const { rtpCapabilities } = await service.call({ type: 'room.create', roomId: 'ctl' });
  const consumer = await service.call({ type: 'consumer.create', roomId: 'ctl', peerId: 'p', transportId: recvT, producerId, rtpCapabilities });
  assert.deepEqual([consumer.source, consumer.producerPaused, consumer.consumerType], ['screen', true, 'simple']);
  await service.call({ type: 'producer.resume', roomId: 'ctl', peerId: 'p', producerId });
  await service.call({ type: 'consumer.resume', roomId: 'ctl', peerId: 'p', consumerId: consumer.consumerId });
  await service.call({ type: 'consumer.pause', roomId: 'ctl', peerId: 'p', consumerId: consumer.consumerId });
  const layers = await service.raw('POST', `/control/rooms/ctl/peers/p/consumers/${consumer.consumerId}/layers`, '{"spatialLayer":1}');
  assert.equal((layers.body as { error: { code: string } }).error.code, 'invalid_state');

  // Simulcast: three encodings with rids give a simulcast consumer that takes preferred layers.
  const simulcast = await service.call({
    type: 'producer.create',
    roomId: 'ctl',
    peerId: 'p',
    transportId: sendT,
    kind: 'video',
    source: 'camera',
    rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 102, clockRate: 90000 }], encodings: [{ ssrc: 2221 }, { ssrc: 2222 }, { ssrc: 2223 }] },
  });
  const simulcastConsumer = await service.call({
    type: 'consumer.create',
    roomId: 'ctl',
    peerId: 'p',
    transportId: recvT,
    producerId: simulcast.producerId,
    rtpCapabilities,
  });
  assert.equal(simulcastConsumer.consumerType, 'simulcast');
  await service.call({ type: 'consumer.layers', roomId: 'ctl', peerId: 'p', consumerId: simulcastConsumer.consumerId, spatialLayer: 1, temporalLayer: 0 });

  // Capabilities without VP8 cannot consume it.
  const audioOnly = { codecs: rtpCapabilities.codecs.filter((codec) => codec.kind === 'audio'), headerExtensions: [] };
  const refused = await service.raw(
    'POST',
    '/control/rooms/ctl/peers/p/consume',
    JSON.stringify({ transportId: recvT, producerId, rtpCapabilities: audioOnly }),
  );
  assert.equal(refused.status, 422);
  assert.equal((refused.body as { error: { code: string } }).error.code, 'cannot_consume');

  await service.call({ type: 'producer.close', roomId: 'ctl', peerId: 'p', producerId });
  await eventually(
    () => events,
    (list) => list.some((e) => e.type === 'producer.closed' && e.producerId === producerId && e.reason === 'closed'),
    'producer.closed',
  );
  assert.equal(service.node.status().consumers, 1, "the closed producer's consumer went with it");
  await service.call({ type: 'room.close', roomId: 'ctl' });
});

test('a worker that dies takes its rooms with it: worker.died names them, and a replacement starts', async () => {
  await service.call({ type: 'room.create', roomId: 'doomed' });
  const [pid] = service.node.rooms.get('doomed')!.workerPids;
  process.kill(pid!, 'SIGKILL');
  const died = await eventually(
    () => events.find((e) => e.type === 'worker.died'),
    (e) => e !== undefined,
    'worker.died',
  );
  assert.deepEqual(died && { ...died, at: 0 }, { type: 'worker.died', nodeId: 'test-node', at: 0, workerPid: pid, roomIds: ['doomed'], replaced: true });
  assert.equal((await service.raw('POST', '/control/rooms/doomed/peers', '{"peerId":"x"}')).status, 404);
  const pids = await eventually(
    () => service.node.pool.workers.filter((worker) => !worker.closed).map((worker) => worker.pid),
    (live) => live.length === 2 && !live.includes(pid!),
    'a replacement worker',
  );
  assert.equal(pids.length, 2);
  assert.equal((await service.call({ type: 'room.create', roomId: 'reborn' })).roomId, 'reborn');
  await service.call({ type: 'room.close', roomId: 'reborn' });
});

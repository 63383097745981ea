/**
 * Room lifecycle through the control API with real mediasoup workers: capabilities, WebRTC
 * transport parameters with the announced address, 404/409 answers, resources freed on close,
 * config validation.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TransportCreated } from '@callstack/protocol';
import { loadConfig } from './config.ts';
import { startService, type Service } from './testHarness.ts';

let service: Service;

before(async () => {
  service = await startService({ MEDIA_ANNOUNCED_IP: '203.0.113.7', MEDIA_RTC_MIN_PORT: '41000', MEDIA_RTC_MAX_PORT: '41999' });
});
after(() => service.close());

test('creating a room returns the router capabilities (opus, VP8, H264, simulcast extensions); creating it again returns the same room', async () => {
  const created = await service.call({ type: 'room.create', roomId: 'caps' });
  assert.equal(created.roomId, 'caps');
  const mimeTypes = created.rtpCapabilities.codecs.map((codec) => codec.mimeType);
  for (const mimeType of ['audio/opus', 'video/VP8', 'video/H264']) assert.ok(mimeTypes.includes(mimeType), mimeTypes.join());
  const uris = created.rtpCapabilities.headerExtensions?.map((extension) => extension.uri) ?? [];
  for (const uri of [
    'urn:ietf:params:rtp-hdrext:sdes:mid',
    'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  ]) {
    assert.ok(uris.includes(uri), uri);
  }
  assert.deepEqual(await service.call({ type: 'room.create', roomId: 'caps' }), created);
  assert.equal(service.node.status().rooms, 1);
  await service.call({ type: 'room.close', roomId: 'caps' });
});

test('a joined peer gets WebRTC transports with ICE and DTLS parameters on the announced address', async () => {
  await service.call({ type: 'room.create', roomId: 'ice' });
  const joined = await service.call({ type: 'peer.join', roomId: 'ice', peerId: 'alice' });
  assert.ok(joined.rtpCapabilities.codecs.length >= 3);
  for (const direction of ['send', 'recv'] as const) {
    const transport: TransportCreated = await service.call({ type: 'transport.create', roomId: 'ice', peerId: 'alice', direction });
    assert.equal(transport.transport, 'webrtc');
    assert.ok(transport.transport === 'webrtc');
    assert.equal(transport.direction, direction);
    assert.ok(transport.iceParameters.usernameFragment.length > 0 && transport.iceParameters.password.length > 0);
    assert.ok(transport.dtlsParameters.fingerprints.some((f) => f.algorithm === 'sha-256'));
    assert.deepEqual(new Set(transport.iceCandidates.map((c) => c.protocol)), new Set(['udp', 'tcp']));
    for (const candidate of transport.iceCandidates) {
      assert.equal(candidate.ip, '203.0.113.7');
      assert.ok(candidate.port >= 41000 && candidate.port <= 41999, String(candidate.port));
    }
  }
  const status = service.node.status();
  assert.equal(status.peers, 1);
  assert.equal(status.transports, 2);
  await service.call({ type: 'room.close', roomId: 'ice' });
});

test('unknown rooms, peers, transports and producers answer 404; a second join of one peer 409', async () => {
  const notFound = async (path: string, body = '{}', method = 'POST') => {
    const answer = await service.raw(method, path, body);
    assert.equal(answer.status, 404, path);
    assert.equal((answer.body as { error: { code: string } }).error.code, 'not_found');
  };
  await notFound('/control/rooms/nope/peers', '{"peerId":"a"}');
  await notFound('/control/rooms/nope', '', 'DELETE');
  await service.call({ type: 'room.create', roomId: 'r404' });
  await notFound('/control/rooms/r404/peers/ghost/transports', '{"direction":"send"}');
  await notFound('/control/rooms/r404/peers/ghost', '', 'DELETE');
  await service.call({ type: 'peer.join', roomId: 'r404', peerId: 'p' });
  const id = '0b5f6a3e-2d7c-4a51-9d62-2f1e8c3b7a90';
  await notFound(`/control/rooms/r404/peers/p/transports/${id}/connect`, JSON.stringify({ connect: { transport: 'plain', ip: '127.0.0.1', port: 5000 } }));
  await notFound(`/control/rooms/r404/peers/p/consumers/${id}/resume`);
  await notFound(`/control/rooms/r404/peers/p/producers/${id}`, '', 'DELETE');
  const again = await service.raw('POST', '/control/rooms/r404/peers', '{"peerId":"p"}');
  assert.equal(again.status, 409);
  assert.equal((again.body as { error: { code: string } }).error.code, 'conflict');
  await service.call({ type: 'room.close', roomId: 'r404' });
});

test('closing a peer and then the room frees every resource', async () => {
  await service.call({ type: 'room.create', roomId: 'free' });
  for (const peerId of ['a', 'b']) {
    await service.call({ type: 'peer.join', roomId: 'free', peerId });
    await service.call({ type: 'transport.create', roomId: 'free', peerId, direction: 'send' });
    await service.call({ type: 'transport.create', roomId: 'free', peerId, direction: 'recv' });
  }
  assert.equal(service.node.status().transports, 4);
  await service.call({ type: 'peer.leave', roomId: 'free', peerId: 'a' });
  assert.deepEqual([service.node.status().peers, service.node.status().transports], [1, 2]);
  await service.call({ type: 'room.close', roomId: 'free' });
  const status = service.node.status();
  assert.deepEqual([status.rooms, status.peers, status.transports, status.producers, status.consumers], [0, 0, 0, 0, 0]);
  assert.deepEqual(
    status.workerLoad.map((load) => load.routers),
    [0],
  );
  assert.equal((await service.raw('POST', '/control/rooms/free/peers', '{"peerId":"c"}')).status, 404);
});

test('plain transports are refused unless the node enables them', async () => {
  const strict = await startService({ MEDIA_PLAIN_TRANSPORTS: 'false' });
  try {
    await strict.call({ type: 'room.create', roomId: 'r' });
    await strict.call({ type: 'peer.join', roomId: 'r', peerId: 'p' });
    const answer = await strict.raw('POST', '/control/rooms/r/peers/p/transports', '{"direction":"send","transport":"plain"}');
    assert.equal(answer.status, 400);
    assert.equal((answer.body as { error: { message: string } }).error.message, 'transport: plain transports are disabled on this node');
  } finally {
    await strict.close();
  }
});

test('config: defaults apply, and every bad value is reported at once', () => {
  const config = loadConfig({ MEDIA_CONTROL_SECRET: 'x'.repeat(16), MEDIA_ANNOUNCED_IP: 'media.example.org' });
  assert.equal(config.listenPort, 8443);
  assert.equal(config.consumersPerWorker, 500);
  assert.deepEqual(config.rtc, { listenIp: '0.0.0.0', announcedIp: 'media.example.org', minPort: 40000, maxPort: 49999 });
  assert.ok(config.workers >= 1);
  assert.throws(
    () => loadConfig({ MEDIA_CONTROL_SECRET: 'short', MEDIA_WORKERS: 'many', MEDIA_RTC_LISTEN_IP: '127.0.0.1' }),
    /MEDIA_CONTROL_SECRET: use at least 16 characters; MEDIA_WORKERS: expected an integer/,
  );
  assert.throws(() => loadConfig({ MEDIA_CONTROL_SECRET: 'x'.repeat(16) }), /MEDIA_ANNOUNCED_IP is required/);
});

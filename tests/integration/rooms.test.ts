/**
 * Conference rooms through the real edge (wrangler dev) driving real media nodes
 * (media-fleet/src/main.ts with mediasoup workers): membership, producers announced to everyone,
 * RTP forwarded between two participants over the nodes' plain transports (what WebRTC adds, ICE
 * and DTLS-SRTP, needs a browser and is left to the browser e2e), the node's events back to the
 * participants, node registration signatures, failover to another node, and drain.
 *
 * The tests run in order: the last ones start nodes of their own and SIGKILL the stack's node.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { CONTROL_SIGNATURE_HEADER, signNodeRegistration, type MediaNodeRegistration } from '@callstack/protocol';
import { startMediaNode, type LocalMediaNode } from '../../scripts/lib/mediaNode.ts';
import { api, createTenant, login, type TestTenant } from '../lib/fixtures.ts';
import { drainNode, nodeStatus } from '../lib/mediaNodes.ts';
import { ask, createRoom, join } from '../lib/rooms.ts';
import { devicePool, type SignalingClient } from '../lib/SignalingClient.ts';
import { stack } from '../lib/stack.ts';

const { device, closeAll } = devicePool(() => stack.url, login);
const sockets: Socket[] = [];
const nodes: LocalMediaNode[] = [];
after(async () => {
  await closeAll();
  for (const socket of sockets) socket.close();
  await Promise.all(nodes.map((node) => node.stop()));
});

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function udpSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/** RTP (opus, PT 100) with the ssrc-audio-level extension at -10 dBov, so the node hears a speaker. */
function rtpPacket(seq: number, ssrc: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x90;
  header[1] = 100;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(960 * seq, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0x80 | 10, 0x00, 0x00]), payload]);
}

/** Produces audio on a plain send transport; returns where to send RTP and the producer id. */
async function produceAudio(client: SignalingClient, roomId: string, ssrc: number) {
  const { transport } = await ask(client, 'room.transport.created', { type: 'room.transport.create', roomId, direction: 'send', transport: 'plain' });
  assert.equal(transport.transport, 'plain');
  const { producerId } = await ask(client, 'room.produced', {
    type: 'room.produce',
    roomId,
    transportId: transport.transportId,
    kind: 'audio',
    source: 'mic',
    paused: false,
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc }],
      headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: 1 }],
    },
  });
  return { producerId, target: transport.transport === 'plain' ? transport : assert.fail('plain transport expected') };
}

function registration(nodeId: string, overrides: Partial<MediaNodeRegistration> = {}): MediaNodeRegistration {
  return {
    kind: 'media',
    instanceId: nodeId,
    region: 'local',
    availabilityZone: 'local',
    publicIp: '127.0.0.1',
    privateIp: '127.0.0.1',
    hostname: null,
    draining: false,
    controlUrl: 'http://127.0.0.1:9',
    rtcPorts: { min: 40000, max: 40100 },
    ...overrides,
  };
}

async function register(body: string, signature: string) {
  return api<{ error: { code: string } } | null>('POST', '/api/fleet/nodes', {
    body: JSON.parse(body) as unknown,
    headers: { [CONTROL_SIGNATURE_HEADER]: signature },
  });
}

describe('rooms on one media node', () => {
  // Closed when this group ends, so none of its rooms is left on the node the failover test kills.
  const { device, closeAll: closeGroup } = devicePool(() => stack.url, login);
  after(closeGroup);
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('three users join, each learns the others and their producers, RTP flows and the speaker is announced', async () => {
    const [alice, bob, carol, dave] = await Promise.all([
      device(tenant.users.alice),
      device(tenant.users.bob),
      device(tenant.users.carol),
      device(tenant.users.dave),
    ]);
    const roomId = await createRoom(alice);
    const aliceJoined = await join(alice, roomId);
    assert.deepEqual(aliceJoined.participants, []);
    assert.ok(aliceJoined.rtpCapabilities.codecs.some((codec) => codec.mimeType === 'audio/opus'));
    const bobJoined = await join(bob, roomId);
    assert.deepEqual(
      bobJoined.participants.map((p) => p.userId),
      [tenant.users.alice.id],
    );
    const carolJoined = await join(carol, roomId);
    assert.deepEqual(carolJoined.participants.map((p) => p.userId).sort(), [tenant.users.alice.id, tenant.users.bob.id].sort());
    const joinedSeenByAlice = [await alice.next('room.participant.joined'), await alice.next('room.participant.joined')];
    assert.deepEqual(
      joinedSeenByAlice.map((m) => m.participant.peerId),
      [bobJoined.peerId, carolJoined.peerId],
    );

    const peers = { alice: aliceJoined.peerId, bob: bobJoined.peerId, carol: carolJoined.peerId };
    const produced = {
      alice: await produceAudio(alice, roomId, 0x11111111),
      bob: await produceAudio(bob, roomId, 0x22222222),
      carol: await produceAudio(carol, roomId, 0x33333333),
    };
    const clients = { alice, bob, carol };
    for (const [name, client] of Object.entries(clients)) {
      for (const [producerName, { producerId }] of Object.entries(produced)) {
        if (producerName === name) continue;
        const announced = await client.next('room.producer.new', (m) => m.producer.producerId === producerId);
        assert.equal(announced.producer.peerId, peers[producerName as keyof typeof peers]);
        assert.equal(announced.producer.source, 'mic');
      }
      assert.equal(
        client.all('room.producer.new').filter((m) => m.producer.peerId === peers[name as keyof typeof peers]).length,
        0,
        'nobody hears of their own producer',
      );
    }
    // A late joiner gets everything at once.
    const daveJoined = await join(dave, roomId);
    assert.deepEqual(
      daveJoined.producers.map((p) => p.producerId).sort(),
      Object.values(produced)
        .map((p) => p.producerId)
        .sort(),
    );

    // Bob consumes Alice over a plain recv transport: the consumer starts paused, resume, RTP arrives.
    const { transport: recv } = await ask(bob, 'room.transport.created', { type: 'room.transport.create', roomId, direction: 'recv', transport: 'plain' });
    const listener = await udpSocket();
    const received: Buffer[] = [];
    listener.on('message', (packet) => {
      if ((packet[1]! & 0x7f) === 100) received.push(packet);
    });
    assert.equal(
      (
        await bob.request({
          type: 'room.transport.connect',
          roomId,
          transportId: recv.transportId,
          connect: { transport: 'plain', ip: '127.0.0.1', port: listener.address().port },
        })
      ).type,
      'ack',
    );
    const { consumer } = await ask(bob, 'room.consumed', {
      type: 'room.consume',
      roomId,
      transportId: recv.transportId,
      producerId: produced.alice.producerId,
      rtpCapabilities: bobJoined.rtpCapabilities,
    });
    assert.equal(consumer.paused, true);
    assert.equal(consumer.producerPeerId, peers.alice);
    assert.equal((await bob.request({ type: 'room.consumer.resume', roomId, consumerId: consumer.consumerId })).type, 'ack');
    const sender = await udpSocket();
    for (let seq = 0; seq < 50; seq++) {
      sender.send(rtpPacket(seq, 0x11111111, Buffer.from(`frame-${seq}`)), produced.alice.target.port, produced.alice.target.ip);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await eventually(
      async () => received.length,
      (count) => count > 0,
      "Alice's RTP at Bob",
    );
    const outSsrc = (consumer.rtpParameters.encodings as { ssrc: number }[])[0]!.ssrc;
    assert.equal(received[0]!.readUInt32BE(8), outSsrc);

    // The node's active-speaker event comes back through the edge to every participant.
    for (const client of [alice, bob, carol, dave]) {
      await client.next('room.speaker', (m) => m.peerId === peers.alice, 15_000);
    }

    // Pause is announced; closing a producer too.
    assert.equal((await alice.request({ type: 'room.producer.pause', roomId, producerId: produced.alice.producerId })).type, 'ack');
    assert.equal((await bob.next('room.producer.paused')).paused, true);
    assert.equal((await carol.request({ type: 'room.producer.close', roomId, producerId: produced.carol.producerId })).type, 'ack');
    assert.equal((await dave.next('room.producer.closed', (m) => m.producerId === produced.carol.producerId)).peerId, peers.carol);
  });

  test('a user of another tenant cannot join: the room id means nothing there', async () => {
    const other = await createTenant();
    const alice = await device(tenant.users.alice);
    const roomId = await createRoom(alice);
    const stranger = await device(other.users.alice);
    const answer = await stranger.request({ type: 'room.join', roomId });
    assert.equal(answer.type, 'error');
    assert.equal(answer.type === 'error' && answer.code, 'not_found');
  });

  test('malformed or out-of-order room messages get typed errors and the socket stays open', async () => {
    const bob = await device(tenant.users.bob);
    const roomId = await createRoom(bob);
    bob.sendRaw(JSON.stringify({ type: 'room.join', ref: 'r1', roomId: 'not a valid id!' }));
    const invalid = await bob.next('error');
    assert.equal(invalid.code, 'bad_message');
    assert.match(invalid.message, /roomId/);
    bob.sendRaw(
      JSON.stringify({
        type: 'room.produce',
        ref: 'r2',
        roomId,
        transportId: crypto.randomUUID(),
        kind: 'audio',
        source: 'mic',
        rtpParameters: { codecs: [] },
      }),
    );
    assert.equal((await bob.next('error')).code, 'bad_message');
    const early = await bob.request({ type: 'room.transport.create', roomId, direction: 'send', transport: 'webrtc' });
    assert.equal(early.type === 'error' && early.code, 'invalid_state', 'relays need a join first');
    await join(bob, roomId);
    const unknown = await bob.request({ type: 'room.producer.pause', roomId, producerId: crypto.randomUUID() });
    assert.equal(unknown.type === 'error' && unknown.code, 'not_found', "the node's refusal, typed");
    assert.ok(bob.isOpen);
  });

  test('leaving, or closing the socket, frees the participant on the node and the last one out closes the room there', async () => {
    const before = await nodeStatus(stack.mediaNode.controlUrl);
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const roomId = await createRoom(alice);
    await join(alice, roomId);
    const bobJoined = await join(bob, roomId);
    const during = await nodeStatus(stack.mediaNode.controlUrl);
    assert.equal(during.peers, before.peers + 2);
    assert.equal(during.rooms, before.rooms + 1);

    assert.equal((await bob.request({ type: 'room.leave', roomId })).type, 'ack');
    assert.equal((await alice.next('room.participant.left')).peerId, bobJoined.peerId);
    assert.equal((await nodeStatus(stack.mediaNode.controlUrl)).peers, before.peers + 1);
    await alice.close();
    await eventually(
      () => nodeStatus(stack.mediaNode.controlUrl),
      (s) => s.peers === before.peers && s.rooms === before.rooms,
      'peer and room freed',
    );
  });
});

describe('node registration', () => {
  test('rejects missing, wrong and expired signatures, and malformed bodies, with typed errors', async () => {
    const body = JSON.stringify(registration('signature-test-node', { draining: true }));
    assert.equal((await register(body, '')).body?.error.code, 'unauthorized');
    assert.equal((await register(body, await signNodeRegistration('some-other-secret-0123', body))).body?.error.code, 'unauthorized');
    const expired = await register(body, await signNodeRegistration(stack.mediaSecret, body, Math.floor(Date.now() / 1000) - 600));
    assert.equal(expired.status, 401);
    assert.equal(expired.body?.error.code, 'signature_expired');
    const malformed = JSON.stringify({ kind: 'media', instanceId: 'x' });
    const bad = await register(malformed, await signNodeRegistration(stack.mediaSecret, malformed));
    assert.equal(bad.status, 400);
    assert.equal((await register(body, await signNodeRegistration(stack.mediaSecret, body))).status, 204);
  });
});

describe('failover and drain', () => {
  let tenant: TestTenant;
  before(async () => {
    tenant = await createTenant();
  });

  test('when its node dies (SIGKILL) the room moves to another node and every participant is told to rebuild', async () => {
    const alice = await device(tenant.users.alice);
    const bob = await device(tenant.users.bob);
    const roomId = await createRoom(alice);
    await join(alice, roomId);
    await join(bob, roomId);
    const first = await nodeStatus(stack.mediaNode.controlUrl);
    assert.ok(first.peers >= 2, 'the room is on the stack node');
    assert.equal((await bob.request({ type: 'room.probe', roomId })).type, 'ack', 'a live node passes the probe');

    const second = await startMediaNode({
      nodeId: 'test-media-2',
      edgeUrl: stack.url,
      secret: stack.mediaSecret,
      logFile: stack.tmp('logs', 'media-node-2.log'),
      rtcPorts: { min: 42200, max: 42399 },
      registerIntervalSeconds: 2,
      plainTransports: true,
    });
    nodes.push(second);
    process.kill(-stack.mediaNode.pid, 'SIGKILL');

    // A browser whose media stalled probes: the edge finds the node gone, the room moves, the probe fails typed.
    const failed = await alice.request({ type: 'room.probe', roomId });
    assert.equal(failed.type === 'error' && failed.code, 'media_unavailable');
    for (const client of [alice, bob]) {
      const migrate = await client.next('room.migrate');
      assert.equal(migrate.roomId, roomId);
      assert.equal(migrate.reason, 'node-failed');
    }
    assert.equal((await nodeStatus(second.controlUrl)).peers, 2, 'both participants were joined on the new node');
    const rebuilt = await ask(alice, 'room.transport.created', { type: 'room.transport.create', roomId, direction: 'send', transport: 'plain' });
    assert.equal(rebuilt.transport.transport, 'plain');
  });

  test('a draining node gets no new rooms', async () => {
    const third = await startMediaNode({
      nodeId: 'test-media-3',
      edgeUrl: stack.url,
      secret: stack.mediaSecret,
      logFile: stack.tmp('logs', 'media-node-3.log'),
      rtcPorts: { min: 42400, max: 42599 },
      registerIntervalSeconds: 2,
      plainTransports: true,
    });
    nodes.push(third);
    const second = nodes.find((node) => node.nodeId === 'test-media-2')!;
    // Drain the second node the way the agent does: the node refuses new rooms, and (registering
    // itself here) tells the edge at once; the signed registration below says the same, synchronously.
    assert.equal((await drainNode(second.controlUrl)).status, 200);
    const body = JSON.stringify(registration(second.nodeId, { controlUrl: second.controlUrl, draining: true }));
    assert.equal((await register(body, await signNodeRegistration(stack.mediaSecret, body))).status, 204);

    const secondBefore = await nodeStatus(second.controlUrl);
    const thirdBefore = await nodeStatus(third.controlUrl);
    const users = [tenant.users.carol, tenant.users.dave, tenant.users.alice];
    for (const user of users) {
      const client = await device(user);
      await join(client, await createRoom(client));
    }
    assert.equal((await nodeStatus(third.controlUrl)).rooms, thirdBefore.rooms + users.length, 'every new room went to the third node');
    assert.equal((await nodeStatus(second.controlUrl)).rooms, secondBefore.rooms, 'none to the draining one');
  });
});

/**
 * The control API's boundary: signatures (missing, wrong, expired, replayed), the agent's bearer
 * token from loopback, typed error bodies, validation naming the failing field, drain, metrics.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CONTROL_SIGNATURE_HEADER, signControlRequest } from '@callstack/protocol';
import { SECRET, startService, type Service } from './testHarness.ts';

let service: Service;

before(async () => {
  service = await startService({ MEDIA_ANNOUNCED_IP: '203.0.113.7' });
});
after(() => service.close());

async function send(path: string, init: { method?: string; body?: string; signature?: string; authorization?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.signature !== undefined) headers[CONTROL_SIGNATURE_HEADER] = init.signature;
  if (init.authorization !== undefined) headers.authorization = init.authorization;
  const response = await fetch(service.url + path, { method: init.method ?? 'GET', headers, body: init.body });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

test('a signed request is accepted', async () => {
  const body = '{"roomId":"sig-ok"}';
  const signature = await signControlRequest(SECRET, { method: 'POST', path: '/control/rooms', body });
  const { status } = await send('/control/rooms', { method: 'POST', body, signature });
  assert.equal(status, 200);
  await service.call({ type: 'room.close', roomId: 'sig-ok' });
});

test('missing, wrong, expired and replayed signatures are rejected with their codes', async () => {
  const body = '{"roomId":"sig-bad"}';
  const missing = await send('/control/rooms', { method: 'POST', body });
  assert.deepEqual(missing, { status: 401, body: { error: { code: 'unauthorized', message: 'missing signature' } } });

  const wrongKey = await signControlRequest('not-the-secret-at-all', { method: 'POST', path: '/control/rooms', body });
  const wrong = await send('/control/rooms', { method: 'POST', body, signature: wrongKey });
  assert.deepEqual(wrong, { status: 401, body: { error: { code: 'unauthorized', message: 'signature does not match' } } });

  // Signed for another body: the signature covers the body.
  const other = await signControlRequest(SECRET, { method: 'POST', path: '/control/rooms', body: '{"roomId":"x"}' });
  assert.equal((await send('/control/rooms', { method: 'POST', body, signature: other })).body.error?.code, 'unauthorized');

  const old = await signControlRequest(SECRET, { method: 'POST', path: '/control/rooms', body }, { timestamp: Math.floor(Date.now() / 1000) - 61 });
  const expired = await send('/control/rooms', { method: 'POST', body, signature: old });
  assert.equal(expired.status, 401);
  assert.equal(expired.body.error?.code, 'signature_expired');

  const once = await signControlRequest(SECRET, { method: 'POST', path: '/control/rooms', body });
  assert.equal((await send('/control/rooms', { method: 'POST', body, signature: once })).status, 200);
  const replayed = await send('/control/rooms', { method: 'POST', body, signature: once });
  assert.deepEqual(replayed, { status: 401, body: { error: { code: 'replayed', message: 'nonce already used' } } });
  await service.call({ type: 'room.close', roomId: 'sig-bad' });
});

test('the node agent may use the bearer token from loopback for drain/status only', async () => {
  const authorization = `Bearer ${SECRET}`;
  const status = await send('/control/status', { authorization });
  assert.equal(status.status, 200);
  assert.equal((await send('/control/status', { authorization: 'Bearer wrong' })).body.error?.code, 'unauthorized');
  const rooms = await send('/control/rooms', { method: 'POST', body: '{"roomId":"r"}', authorization });
  assert.equal(rooms.body.error?.code, 'unauthorized');
});

test('GET /health needs no signature', async () => {
  assert.deepEqual(await send('/health'), { status: 200, body: { ok: true, draining: false } });
});

test('malformed bodies answer 400 bad_request naming the field; unknown routes 404/405', async () => {
  const cases: [string, string, string, RegExp][] = [
    ['POST', '/control/rooms', '{"roomId":"has space"}', /^roomId: /],
    ['POST', '/control/rooms', '{}', /^roomId: /],
    ['POST', '/control/rooms', '{oops', /^body is not valid JSON$/],
    ['POST', '/control/rooms', '[1]', /^body must be a JSON object$/],
  ];
  for (const [method, path, body, message] of cases) {
    const answer = await service.raw(method, path, body);
    assert.equal(answer.status, 400, body);
    const error = (answer.body as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'bad_request');
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\n\s+at /); // no stack trace
  }
  await service.call({ type: 'room.create', roomId: 'bodies' });
  await service.call({ type: 'peer.join', roomId: 'bodies', peerId: 'p' });
  const transport = await service.raw('POST', '/control/rooms/bodies/peers/p/transports', '{"direction":"sideways"}');
  assert.equal(transport.status, 400);
  assert.match((transport.body as { error: { message: string } }).error.message, /^direction: /);
  const produce = await service.raw(
    'POST',
    '/control/rooms/bodies/peers/p/produce',
    JSON.stringify({ transportId: '0b5f6a3e-2d7c-4a51-9d62-2f1e8c3b7a90', kind: 'audio', source: 'mic', rtpParameters: { codecs: [] } }),
  );
  assert.match((produce.body as { error: { message: string } }).error.message, /^rtpParameters\.codecs: /);
  assert.equal((await service.raw('GET', '/control/nothing')).status, 404);
  assert.deepEqual((await service.raw('PUT', '/control/rooms')).body, { error: { code: 'method_not_allowed', message: 'PUT not allowed on /control/rooms' } });
  await service.call({ type: 'room.close', roomId: 'bodies' });
});

test('drain: new rooms get 503 draining, existing rooms stay, status reports drained once they close', async () => {
  const drainService = await startService();
  try {
    await drainService.call({ type: 'room.create', roomId: 'kept' });
    await drainService.call({ type: 'peer.join', roomId: 'kept', peerId: 'p1' });
    const drained = await drainService.call({ type: 'node.drain' });
    assert.equal(drained.draining, true);
    assert.equal(drained.drained, false);

    const refused = await drainService.raw('POST', '/control/rooms', '{"roomId":"new"}');
    assert.deepEqual(refused, { status: 503, body: { error: { code: 'draining', message: 'node is draining: create the room on another node' } } });
    // The existing room still works (idempotent create, new peers).
    assert.equal((await drainService.call({ type: 'room.create', roomId: 'kept' })).roomId, 'kept');
    await drainService.call({ type: 'peer.join', roomId: 'kept', peerId: 'p2' });
    assert.deepEqual(await drainService.raw('GET', '/health'), { status: 200, body: { ok: true, draining: true } });

    await drainService.call({ type: 'room.close', roomId: 'kept' });
    const status = await drainService.call({ type: 'node.status' });
    assert.deepEqual(
      { ...status, workerLoad: undefined },
      {
        draining: true,
        drained: true,
        rooms: 0,
        peers: 0,
        transports: 0,
        producers: 0,
        consumers: 0,
        workers: 1,
        consumerBudgetPerWorker: 500,
        workerLoad: undefined,
      },
    );
  } finally {
    await drainService.close();
  }
});

test('/metrics exposes the gauges with the current values', async () => {
  await service.call({ type: 'room.create', roomId: 'metrics' });
  for (const peerId of ['a', 'b']) {
    await service.call({ type: 'peer.join', roomId: 'metrics', peerId });
    await service.call({ type: 'transport.create', roomId: 'metrics', peerId, direction: 'recv' });
  }
  const { status, body } = await service.raw('GET', '/metrics');
  assert.equal(status, 200);
  const text = String(body);
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('callstack_media_rooms'), 1);
  assert.equal(value('callstack_media_peers'), 2);
  assert.equal(value('callstack_media_transports'), 2);
  assert.equal(value('callstack_media_consumers'), 0);
  assert.equal(value('callstack_media_draining'), 0);
  const pid = service.node.pool.workers[0]!.pid;
  assert.match(text, new RegExp(`^callstack_media_worker_routers\\{worker_pid="${pid}"\\} 1$`, 'm'));
  assert.match(text, new RegExp(`^callstack_media_worker_consumers\\{worker_pid="${pid}"\\} 0$`, 'm'));
  assert.ok(value('callstack_media_worker_cpu_seconds') > 0);
  await service.call({ type: 'room.close', roomId: 'metrics' });
  const after = String((await service.raw('GET', '/metrics')).body);
  assert.match(after, /^callstack_media_peers 0$/m);
  assert.match(after, /^callstack_media_transports 0$/m);
});

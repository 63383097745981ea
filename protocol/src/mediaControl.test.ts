import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { signControlRequest, verifyControlSignature } from './controlSignature.ts';
import { CONTROL_API, ControlRequest, matchControlRoute, toControlHttp, type ControlRequestType } from './mediaControl.ts';

const uuid = '0b5f6a3e-2d7c-4a51-9d62-2f1e8c3b7a90';

test('every request type maps to HTTP and back to the same validated request', () => {
  const request = { type: 'consumer.layers', roomId: 'r-1', peerId: 'p_2', consumerId: uuid, spatialLayer: 1 } as const;
  const http = toControlHttp(request);
  assert.deepEqual(http, { method: 'POST', path: `/control/rooms/r-1/peers/p_2/consumers/${uuid}/layers`, body: '{"spatialLayer":1}' });
  const match = matchControlRoute(http.method, http.path);
  assert.ok(match.ok);
  const parsed = v.parse(ControlRequest, { ...JSON.parse(http.body!), ...match.params, type: match.type });
  assert.deepEqual(parsed, request);
  // Routes are unambiguous: each (method, path) pattern matches exactly its own type.
  for (const [type, endpoint] of Object.entries(CONTROL_API)) {
    const path = endpoint.path.replace(/:\w+/g, uuid);
    const found = matchControlRoute(endpoint.method, path);
    assert.equal(found.ok && found.type, type as ControlRequestType);
  }
  assert.deepEqual(matchControlRoute('PUT', '/control/rooms'), { ok: false, reason: 'method_not_allowed' });
  assert.deepEqual(matchControlRoute('GET', '/control/nope'), { ok: false, reason: 'not_found' });
});

test('DELETE and GET carry no body', () => {
  assert.deepEqual(toControlHttp({ type: 'room.close', roomId: 'r' }), { method: 'DELETE', path: '/control/rooms/r', body: null });
  assert.deepEqual(toControlHttp({ type: 'node.status' }), { method: 'GET', path: '/control/status', body: null });
});

test('signatures verify, and fail on any changed part, a wrong secret or an old timestamp', async () => {
  const request = { method: 'POST', path: '/control/rooms', body: '{"roomId":"r"}' };
  const header = await signControlRequest('s3cret-s3cret-s3cret', request, { timestamp: 1_700_000_000, nonce: 'abcdefghijklmnop' });
  assert.match(header, /^t=1700000000,n=abcdefghijklmnop,v1=[0-9a-f]{64}$/);
  assert.deepEqual(await verifyControlSignature('s3cret-s3cret-s3cret', header, request, 1_700_000_030), {
    ok: true,
    timestamp: 1_700_000_000,
    nonce: 'abcdefghijklmnop',
  });
  for (const changed of [
    { ...request, body: '{"roomId":"x"}' },
    { ...request, path: '/control/drain' },
    { ...request, method: 'DELETE' },
  ]) {
    const check = await verifyControlSignature('s3cret-s3cret-s3cret', header, changed, 1_700_000_000);
    assert.equal(!check.ok && check.code, 'unauthorized');
  }
  const wrongKey = await verifyControlSignature('another-secret-value', header, request, 1_700_000_000);
  assert.equal(!wrongKey.ok && wrongKey.message, 'signature does not match');
  const late = await verifyControlSignature('s3cret-s3cret-s3cret', header, request, 1_700_000_061);
  assert.equal(!late.ok && late.code, 'signature_expired');
  for (const bad of [undefined, '', 't=1,v1=00', 'garbage']) {
    const check = await verifyControlSignature('s3cret-s3cret-s3cret', bad, request);
    assert.equal(!check.ok && check.code, 'unauthorized');
  }
});

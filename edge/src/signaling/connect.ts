/**
 * WebSocket upgrades: `GET /api/signaling` lands on the user's hub, `GET /api/presence` on one
 * presence shard of the tenant. Browsers cannot set headers on a WebSocket, so the access token
 * comes in the query; the Durable Object gets the proven identity in trusted headers.
 */
import { ErrorCode } from '@callstack/protocol';
import { verifyAccessToken } from '../auth/tokens.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { config } from '../config.ts';
import { identityHeaders } from '../objects/identity.ts';
import { presenceShard, userHub } from '../objects/stubs.ts';
import { shardIndex, watcherKey } from '../presence/shards.ts';

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function connectSignaling(request: Request, env: Env): Promise<Response> {
  const { identity, headers } = await authenticateSocket(request, env);
  return userHub(env, identity.tenantId, identity.userId).fetch(request.url, { headers });
}

export async function connectPresence(request: Request, env: Env): Promise<Response> {
  const { identity, headers, deviceRequested } = await authenticateSocket(request, env);
  // A device keeps its shard across reconnects; anonymous watchers spread at random.
  const key = deviceRequested ? watcherKey(identity.userId, identity.deviceId) : identity.deviceId;
  const shard = shardIndex(key, config(env).presence.shards);
  return presenceShard(env, identity.tenantId, shard).fetch(request.url, { headers });
}

async function authenticateSocket(request: Request, env: Env) {
  if (request.headers.get('Upgrade') !== 'websocket') {
    throw new ApiError(ErrorCode.badRequest, 'expected a WebSocket upgrade');
  }
  const url = new URL(request.url);
  const token = url.searchParams.get('token');
  if (!token) throw new ApiError(ErrorCode.unauthorized, 'missing access token');
  const principal = await verifyAccessToken(env, token);
  const requestedDevice = url.searchParams.get('device');
  if (requestedDevice !== null && !DEVICE_ID.test(requestedDevice)) {
    throw new ApiError(ErrorCode.badRequest, 'device must be 1-64 characters of A-Z a-z 0-9 _ -');
  }
  const headers = new Headers(request.headers);
  const identity = { ...principal, deviceId: requestedDevice ?? crypto.randomUUID() };
  for (const [name, value] of Object.entries(identityHeaders(identity))) headers.set(name, value);
  return { identity, headers, deviceRequested: requestedDevice !== null };
}

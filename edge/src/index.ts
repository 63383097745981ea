/**
 * The CallStack edge Worker: REST API under /api, the signaling and presence WebSockets, and the web app as
 * static assets (wrangler.toml `[assets]`, SPA fallback). Durable Objects are exported here.
 */
import { ErrorCode, type CallHistoryResponse, type DirectoryResponse } from '@callstack/protocol';
import { AutoRouter, type IRequest } from 'itty-router';
import { authenticate, login, logout, refresh } from './auth/routes.ts';
import { verifyAccessToken } from './auth/tokens.ts';
import { withDb } from './db/client.ts';
import { listCallHistory } from './db/callRecords.ts';
import { listDirectory } from './db/users.ts';
import type { Env } from './env.ts';
import { ApiError } from './errors.ts';
import { errorResponse, json } from './http.ts';
import { presenceShardCount, shardIndex, watcherKey } from './presence/shards.ts';
import { identityHeaders } from './signaling/UserHub.ts';
import { presenceShard, userHub } from './signaling/stubs.ts';
import { acceptInvite, adminUsers, auditLog, createKey, deactivate, inviteUser, listKeys, revokeKey, setRole, signup } from './tenants/routes.ts';
import { turnCredentials } from './turn.ts';

export { PresenceShard } from './presence/PresenceShard.ts';
export { CallSession } from './signaling/CallSession.ts';
export { UserHub } from './signaling/UserHub.ts';

type Args = [Env, ExecutionContext];

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

const router = AutoRouter<IRequest, Args>({
  catch: errorResponse,
  // Unknown API paths answer in the API's error shape rather than AutoRouter's default.
  missing: () => json(new ApiError(ErrorCode.notFound, 'no such route').toBody(), 404),
});

router
  .get('/api/health', () => json({ status: 'ok' }))
  .post('/api/auth/login', (request, env) => login(request, env))
  .post('/api/auth/refresh', (request, env) => refresh(request, env))
  .post('/api/auth/logout', (request, env) => logout(request, env))
  .post('/api/signup', (request, env) => signup(request, env))
  .post('/api/invites', (request, env) => inviteUser(request, env))
  .post('/api/invites/accept', (request, env) => acceptInvite(request, env))
  .get('/api/admin/users', (request, env) => adminUsers(request, env))
  .put('/api/admin/users/:id/role', (request, env) => setRole(request, env))
  .post('/api/admin/users/:id/deactivate', (request, env) => deactivate(request, env))
  .get('/api/admin/api-keys', (request, env) => listKeys(request, env))
  .post('/api/admin/api-keys', (request, env) => createKey(request, env))
  .delete('/api/admin/api-keys/:id', (request, env) => revokeKey(request, env))
  .get('/api/admin/audit', (request, env) => auditLog(request, env))
  .get('/api/me', async (request, env) => {
    const principal = await authenticate(request, env, 'directory.read');
    return json(principal);
  })
  .get('/api/users', async (request, env) => {
    const { tenantId } = await authenticate(request, env, 'directory.read');
    const users = await withDb(env, (db) => listDirectory(db, tenantId));
    return json({ users } satisfies DirectoryResponse);
  })
  .get('/api/calls', async (request, env) => {
    const { tenantId, userId } = await authenticate(request, env, 'calls.read_own');
    const calls = await withDb(env, (db) => listCallHistory(db, tenantId, userId));
    return json({ calls } satisfies CallHistoryResponse);
  })
  .get('/api/turn-credentials', async (request, env) => {
    const { userId } = await authenticate(request, env, 'turn.use');
    return json(await turnCredentials(env, userId));
  })
  .get('/api/signaling', async (request, env) => {
    const { identity, headers } = await authenticateSocket(request, env);
    return userHub(env, identity.tenantId, identity.userId).fetch(request.url, { headers });
  })
  .get('/api/presence', async (request, env) => {
    const { identity, headers, deviceRequested } = await authenticateSocket(request, env);
    // A device keeps its shard across reconnects; anonymous watchers spread at random.
    const key = deviceRequested ? watcherKey(identity.userId, identity.deviceId) : identity.deviceId;
    const shard = shardIndex(key, presenceShardCount(env.PRESENCE_SHARDS));
    return presenceShard(env, identity.tenantId, shard).fetch(request.url, { headers });
  });

/**
 * Checks a WebSocket upgrade (signaling or presence) and returns who opens it, with the trusted
 * identity headers for the Durable Object. Browsers cannot set headers on a WebSocket, so the
 * access token comes in the query.
 */
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

export default {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;

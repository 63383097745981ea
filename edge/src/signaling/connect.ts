import { ErrorCode } from '@callstack/protocol';
import { verifyAccessToken } from '../auth/tokens.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { userHub } from './stubs.ts';
import { identityHeaders } from './UserHub.ts';

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** `GET /api/signaling?token=&device=`: authenticates the upgrade and hands it to the user's hub. */
export async function connectSignaling(request: Request, env: Env): Promise<Response> {
  if (request.headers.get('Upgrade') !== 'websocket') {
    throw new ApiError(ErrorCode.badRequest, 'expected a WebSocket upgrade');
  }
  // Browsers cannot set headers on a WebSocket, so the access token comes in the query.
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
  return userHub(env, principal.tenantId, principal.userId).fetch(request.url, { headers });
}

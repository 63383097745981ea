/**
 * WebSocket upgrades: `GET /api/signaling` lands on the user's hub, `GET /api/presence` on one
 * presence shard of the tenant. Browsers cannot set headers on a WebSocket, so the query carries
 * a single-use socket ticket (`POST /api/sockets/ticket`, valid for 30 s), never the access token;
 * the pipeline checks the upgrade and the ticket, and the user's hub spends the ticket (within
 * the upgrade it accepts for signaling, in one request; before the shard's for presence); the
 * Durable Object gets the proven identity in trusted headers.
 */
import { Text, type SocketTicketResponse } from '@callstack/protocol';
import { signedInUser } from '../auth/authenticate.ts';
import { issueSocketTicket, SOCKET_TICKET_TTL_SECONDS, ticketSpent } from '../auth/tokens.ts';
import { json } from '../http.ts';
import * as v from 'valibot';
import type { Principal } from '../auth/tokens.ts';
import { config } from '../config.ts';
import { identityHeaders, SOCKET_TICKET_HEADER } from '../objects/identity.ts';
import { presenceShard, userHub } from '../objects/stubs.ts';
import type { Handler, QueryParameter } from '../pipeline.ts';
import { shardIndex, watcherKey } from '../presence/shards.ts';

/** The query of both upgrades: the socket ticket and the device's stable id. */
export const SOCKET_QUERY = {
  ticket: { schema: v.optional(Text({ max: 4096 })), description: 'single-use socket ticket (`POST /api/sockets/ticket`)' },
  device: {
    schema: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -'))),
    description: 'stable device id (1-64 of A-Z a-z 0-9 _ -); a presence watcher keeps its shard with it',
  },
} satisfies Record<string, QueryParameter>;

type SocketQuery = { ticket: string | undefined; device: string | undefined };

/** A ticket for one WebSocket upgrade, minted for the signed-in user. */
export const socketTicketPost: Handler<'bearer'> = async ({ env, principal }) => {
  const { ticket } = await issueSocketTicket(env, signedInUser(principal, 'sockets are for signed-in users, not API keys'));
  return json({ ticket, expiresIn: SOCKET_TICKET_TTL_SECONDS } satisfies SocketTicketResponse, 201, { 'cache-control': 'no-store' });
};

export const connectSignaling: Handler<'socket_ticket', undefined, SocketQuery> = ({ request, principal, query, env }) => {
  const { identity, headers } = forward(request, principal, query.device);
  headers.set(SOCKET_TICKET_HEADER, principal.ticketId);
  return userHub(env, identity.tenantId, identity.userId).fetch(request.url, { headers });
};

export const connectPresence: Handler<'socket_ticket', undefined, SocketQuery> = async ({ request, principal, query, env }) => {
  if (!(await userHub(env, principal.tenantId, principal.userId).spendSocketTicket(principal.ticketId))) throw ticketSpent();
  const { identity, headers } = forward(request, principal, query.device);
  // A device keeps its shard across reconnects; anonymous watchers spread at random.
  const key = query.device !== undefined ? watcherKey(identity.userId, identity.deviceId) : identity.deviceId;
  const shard = shardIndex(key, config(env).presence.shards);
  return presenceShard(env, identity.tenantId, shard).fetch(request.url, { headers });
};

function forward(request: Request, principal: Principal, device: string | undefined) {
  const headers = new Headers(request.headers);
  const identity = { tenantId: principal.tenantId, userId: principal.userId, displayName: principal.displayName, deviceId: device ?? crypto.randomUUID() };
  for (const [name, value] of Object.entries(identityHeaders(identity))) headers.set(name, value);
  return { identity, headers };
}

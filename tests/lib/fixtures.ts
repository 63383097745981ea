/**
 * Test tenants: each test makes its own tenant with fresh users, so tests never share state and
 * can run against one database.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionResponse } from '@callstack/protocol';
import { SignJWT } from 'jose';
import { withClient } from '../../edge/scripts/migrations.ts';
import { seed, type DemoUser } from '../../edge/scripts/seed.ts';
import { stack } from './stack.ts';

export interface TestUser extends DemoUser {
  tenantId: string;
}

export interface TestTenant {
  id: string;
  users: Record<'alice' | 'bob' | 'carol' | 'dave', TestUser>;
}

/** A new tenant with four users; `id` gives it a known id (the stack's PLATFORM_TENANT_ID, for one). */
export async function createTenant(id?: string): Promise<TestTenant> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const tenant = { id: id ?? `t-${suffix}`, slug: `test-${suffix}`, name: `Test ${suffix}` };
  const make = (name: 'alice' | 'bob' | 'carol' | 'dave'): TestUser => ({
    id: `${name}-${suffix}`,
    tenantId: tenant.id,
    email: `${name}-${suffix}@test.callstack.test`,
    displayName: `${name[0]!.toUpperCase()}${name.slice(1)} ${suffix}`,
    role: name === 'alice' ? 'admin' : name === 'carol' ? 'operator' : 'user',
    password: `${name}-password-${suffix}`,
  });
  const users = { alice: make('alice'), bob: make('bob'), carol: make('carol'), dave: make('dave') };
  await seed(stack.database, [{ tenant, users: Object.values(users) }]);
  return { id: tenant.id, users };
}

export async function login(user: TestUser, baseUrl = stack.url): Promise<SessionResponse> {
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  if (!response.ok) throw new Error(`login of ${user.email} failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as SessionResponse;
}

/** Moves an invite's expiry into the past, as if its 72 hours had gone by. */
export async function expireInvite(inviteId: string): Promise<void> {
  await withClient(stack.database, (client) => client.query(`update invites set expires_at = now() - interval '1 second' where id = $1`, [inviteId]));
}

export interface CallRecordRow {
  call_id: string;
  tenant_id: string;
  caller_id: string;
  callee_id: string;
  answered_at: Date | null;
  end_reason: string;
  duration_ms: number;
}

export async function callRecord(callId: string): Promise<CallRecordRow | undefined> {
  return withClient(stack.database, async (client) => {
    const { rows } = await client.query<CallRecordRow>('select * from call_records where call_id = $1', [callId]);
    return rows[0];
  });
}

/** Polls for the CDR: the edge writes it right after the call ends, asynchronously to clients. */
export async function waitForCallRecord(callId: string, timeoutMs = 15_000): Promise<CallRecordRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await callRecord(callId);
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`no call record for ${callId} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** One REST call to the shared edge; `auth` is an access token or an API key. */
export async function api<T = unknown>(
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResult<T>> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.auth ? { authorization: `Bearer ${options.auth}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  // A route that answers a file (CSV, audio) gives its text; the API's own answers are JSON.
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, body: (text ? (json ? JSON.parse(text) : text) : null) as T, headers: response.headers };
}

export interface SentMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** Written beside the message by the mail sink. */
  attachments: { filename: string; contentType: string | null; path: string }[];
}

/** Mail the edge delivered to the stack's mail sink (one JSON file per message). */
export function sentMail(to: string): SentMail[] {
  const dir = stack.outboxDir;
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as SentMail)
    .filter((mail) => mail.to.includes(to));
}

/** Signs up as a person would: the request, the mailed link, its confirmation (the token in the body). */
export async function signUp(request: { organisation: string; displayName: string; email: string; password: string }): Promise<SessionResponse> {
  const started = await api('POST', '/api/signup', { body: request });
  if (started.status !== 202) throw new Error(`sign-up of ${request.email} refused: ${started.status} ${JSON.stringify(started.body)}`);
  const [mail] = await waitForMail(request.email);
  const token = /\/signup#([A-Za-z0-9_-]+)/.exec(mail!.text)?.[1];
  if (!token) throw new Error(`no sign-up link in the mail to ${request.email}: ${mail!.text}`);
  const confirmed = await api<SessionResponse>('POST', '/api/signup/confirm', { body: { token } });
  if (confirmed.status !== 201) throw new Error(`sign-up link of ${request.email} refused: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return confirmed.body;
}

/** Polls the mail sink until `count` messages to `to` arrived (delivery runs after the response). */
export async function waitForMail(to: string, count = 1, timeoutMs = 15_000): Promise<SentMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = sentMail(to);
    if (mails.length >= count) return mails;
    if (Date.now() > deadline) throw new Error(`${mails.length} of ${count} mails to ${to} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An access token for `user` signed with the stack's key that expired an hour ago. */
export function expiredAccessToken(user: TestUser): Promise<string> {
  return expiredJwt(user, 'callstack-api');
}

/** A socket ticket signed with the stack's key whose 30 seconds are long over. */
export function expiredSocketTicket(user: TestUser): Promise<string> {
  return expiredJwt(user, 'callstack-socket');
}

function expiredJwt(user: TestUser, audience: string): Promise<string> {
  const past = Math.floor(Date.now() / 1000) - 3600;
  return new SignJWT({ tid: user.tenantId, role: user.role, name: user.displayName })
    .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
    .setSubject(user.id)
    .setIssuer('callstack')
    .setAudience(audience)
    .setJti(crypto.randomUUID())
    .setIssuedAt(past - 900)
    .setExpirationTime(past)
    .sign(new TextEncoder().encode(stack.jwtSecret));
}

import { randomToken, sha256Hex } from '../auth/encoding.ts';
import type { Db } from './client.ts';

export const SIGNUP_TTL_HOURS = 24;

export interface PendingSignup {
  email: string;
  organisation: string;
  displayName: string;
  passwordHash: string;
}

/** Keeps the sign-up until its link is used; returns the link's secret. */
export async function createSignupRequest(db: Db, signup: PendingSignup): Promise<string> {
  const token = randomToken();
  await db.query(
    `insert into signup_requests (id, email, token_hash, organisation, display_name, password_hash, expires_at)
     values ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7))`,
    [crypto.randomUUID(), signup.email, await sha256Hex(token), signup.organisation, signup.displayName, signup.passwordHash, SIGNUP_TTL_HOURS],
  );
  return token;
}

/** Spends a sign-up link: unknown, used and expired links are all just invalid. In a transaction. */
export async function claimSignupRequest(db: Db, token: string): Promise<PendingSignup | null> {
  const { rows } = await db.query<{ id: string; email: string; organisation: string; display_name: string; password_hash: string }>(
    `select id, email, organisation, display_name, password_hash from signup_requests
      where token_hash = $1 and used_at is null and expires_at > now() for update`,
    [await sha256Hex(token)],
  );
  const row = rows[0];
  if (!row) return null;
  await db.query('update signup_requests set used_at = now() where id = $1', [row.id]);
  return { email: row.email, organisation: row.organisation, displayName: row.display_name, passwordHash: row.password_hash };
}

/**
 * Failed sign-in counters with exponential lock-outs, one row per key (`account:<email>`,
 * `ip:<address>`). Kept in Postgres, which every sign-in reads anyway, so the limit holds across
 * every Worker isolate and region.
 */
import type { Db } from './client.ts';

export interface ThrottlePolicy {
  /** Failures allowed inside the window before the first lock. */
  maxFailures: number;
  windowSeconds: number;
  /** The first lock; each further failure doubles it, up to `maxLockSeconds`. */
  baseLockSeconds: number;
  maxLockSeconds: number;
}

/** Seconds until the longest lock among `keys` ends; 0 when none is locked. */
export async function lockedFor(db: Db, keys: string[]): Promise<number> {
  const { rows } = await db.query<{ seconds: number | null }>(
    `select ceil(extract(epoch from max(locked_until) - now()))::int as seconds
       from login_throttle where key = any($1) and locked_until > now()`,
    [keys],
  );
  return Math.max(0, rows[0]?.seconds ?? 0);
}

/** Counts one failure against `key`; from `maxFailures` on, the key is locked for a doubling time. */
export async function recordFailure(db: Db, key: string, policy: ThrottlePolicy): Promise<void> {
  await db.query(
    `insert into login_throttle as t (key, failures, window_start) values ($1, 1, now())
     on conflict (key) do update set
       failures = case when t.window_start < now() - make_interval(secs => $2) then 1 else t.failures + 1 end,
       window_start = case when t.window_start < now() - make_interval(secs => $2) then now() else t.window_start end`,
    [key, policy.windowSeconds],
  );
  await db.query(
    `update login_throttle
        set locked_until = now() + make_interval(secs => least($4::float8, $3::float8 * power(2, failures - $2)))
      where key = $1 and failures >= $2`,
    [key, policy.maxFailures, policy.baseLockSeconds, policy.maxLockSeconds],
  );
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.query('delete from login_throttle where key = $1', [key]);
}

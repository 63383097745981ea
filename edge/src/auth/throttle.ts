/**
 * Sign-in rate limiting per account and per client IP, with exponential backoff. Accounts lock
 * after a few failures (guessing one password); IPs after many (guessing across accounts, while
 * leaving room for offices behind one NAT address). Password-reset requests count the same way.
 * Sign-up and invite acceptance are throttled alike under keys of their own (`purpose`), where
 * every attempt counts: each may send mail or create an account.
 */
import { ErrorCode } from '@callstack/protocol';
import type { Db } from '../db/client.ts';
import { clearFailures, lockedFor, recordFailure, type ThrottlePolicy } from '../db/loginThrottle.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';

const WINDOW_SECONDS = 15 * 60;
const MAX_LOCK_SECONDS = 15 * 60;

interface Subject {
  email: string;
  ip: string | null;
}

export type ThrottlePurpose = 'login' | 'signup' | 'invite';

export class LoginThrottle {
  private readonly account: ThrottlePolicy;
  private readonly ip: ThrottlePolicy;
  private readonly prefix: string;

  constructor(env: Env, purpose: ThrottlePurpose = 'login') {
    // Sign-in keeps its keys unprefixed (rows written before the other purposes existed).
    this.prefix = purpose === 'login' ? '' : `${purpose}:`;
    const { login } = config(env);
    const common = { windowSeconds: WINDOW_SECONDS, baseLockSeconds: login.lockBaseSeconds, maxLockSeconds: MAX_LOCK_SECONDS };
    this.account = { ...common, maxFailures: login.maxFailuresPerAccount };
    this.ip = { ...common, maxFailures: login.maxFailuresPerIp };
  }

  /** Refuses with 429 and Retry-After while the account or the IP is locked. */
  async check(db: Db, subject: Subject): Promise<void> {
    const seconds = await lockedFor(db, this.keysOf(subject));
    if (seconds > 0) {
      throw new ApiError(ErrorCode.rateLimited, `too many failed attempts, try again in ${seconds} s`, { retryAfterSeconds: seconds });
    }
  }

  async failed(db: Db, subject: Subject): Promise<void> {
    await recordFailure(db, this.accountKey(subject.email), this.account);
    if (subject.ip) await recordFailure(db, this.ipKey(subject.ip), this.ip);
  }

  /** A success forgives the account, not the IP: one good password must not unlock a spray. */
  async succeeded(db: Db, subject: Subject): Promise<void> {
    await clearFailures(db, this.accountKey(subject.email));
  }

  private accountKey(email: string): string {
    return `${this.prefix}account:${email}`;
  }

  private ipKey(ip: string): string {
    return `${this.prefix}ip:${ip}`;
  }

  private keysOf({ email, ip }: Subject): string[] {
    return ip ? [this.accountKey(email), this.ipKey(ip)] : [this.accountKey(email)];
  }
}

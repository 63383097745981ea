/**
 * The signed-in session: a short-lived access token in memory and a rotating refresh token that
 * is also kept in localStorage so a reload stays signed in.
 */
import {
  Emitter,
  type AcceptInviteRequest,
  type ChangePasswordRequest,
  type EraseAccountRequest,
  type LoginRequest,
  type SessionResponse,
  type SignupRequest,
  type UserView,
} from '@callstack/protocol';
import { api, ApiError } from './api.ts';

const STORAGE_KEY = 'callstack.session';
/** Refresh this long before the access token expires, so a request never races its expiry. */
const EARLY_REFRESH_MS = 30_000;

interface StoredSession {
  refreshToken: string;
  user: UserView;
}

function readStored(): StoredSession | null {
  try {
    // Written by an earlier version or edited by hand: check the shape before trusting it.
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<StoredSession> | null;
    return typeof stored?.refreshToken === 'string' && typeof stored.user?.id === 'string' ? (stored as StoredSession) : null;
  } catch {
    return null;
  }
}

/** The edge refused the token itself (as opposed to being unreachable). */
function isRejected(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 400 || error.status === 401);
}

/**
 * Refresh tokens are single-use, so tabs of the same browser take turns: each one reads the
 * newest token from storage inside the lock instead of spending one another tab already rotated.
 */
async function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  return 'locks' in navigator ? await navigator.locks.request('callstack.refresh', task) : task();
}

export class Session extends Emitter<{ expired: [] }> {
  readonly user: UserView;
  private accessTokenValue = '';
  private expiresAt = 0;
  private refreshToken = '';
  private refreshing: Promise<void> | null = null;

  private constructor(response: SessionResponse) {
    super();
    this.user = response.user;
    this.apply(response);
  }

  static login(request: LoginRequest): Promise<Session> {
    return Session.begin(api.login(request));
  }

  /** A new organisation; the session is its first admin's. */
  static signup(request: SignupRequest): Promise<Session> {
    return Session.begin(api.signup(request));
  }

  static acceptInvite(request: AcceptInviteRequest): Promise<Session> {
    return Session.begin(api.acceptInvite(request));
  }

  private static async begin(response: Promise<SessionResponse>): Promise<Session> {
    const session = new Session(await response);
    session.persist();
    return session;
  }

  /** The session left by an earlier visit, or null when there is none or the edge revoked it. */
  static resume(): Promise<Session | null> {
    return withRefreshLock(async () => {
      const stored = readStored();
      if (!stored) return null;
      try {
        const session = new Session(await api.refresh(stored.refreshToken));
        session.persist();
        return session;
      } catch (error) {
        if (!isRejected(error)) throw error;
        localStorage.removeItem(STORAGE_KEY);
        return null;
      }
    });
  }

  /** A valid access token; `renew` forces a refresh (e.g. after the signaling socket was refused). */
  async accessToken(renew = false): Promise<string> {
    if (renew || Date.now() > this.expiresAt - EARLY_REFRESH_MS) await this.refresh();
    return this.accessTokenValue;
  }

  /** Runs an authenticated request, refreshing the access token once if the edge answers 401. */
  async authed<T>(call: (accessToken: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.accessToken());
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      return call(await this.accessToken(true));
    }
  }

  /** The edge revokes every sign-in and answers with a new one for this device, which we keep. */
  async changePassword(request: ChangePasswordRequest): Promise<void> {
    const response = await this.authed((token) => api.changePassword(token, request));
    const owned = this.ownsStorage();
    this.apply(response);
    if (owned) this.persist();
  }

  /** Revokes every sign-in of this user, this one included; the edge closes their sockets. */
  async signOutEverywhere(): Promise<void> {
    await this.authed(api.logoutAll);
    this.forget();
  }

  /** Erases the account (the edge asks for the password again); the session ends with it. */
  async eraseAccount(request: EraseAccountRequest): Promise<void> {
    await this.authed((token) => api.eraseAccount(token, request));
    this.forget();
  }

  /** Drops the stored session after the edge already ended it. */
  forget(): void {
    if (this.ownsStorage()) localStorage.removeItem(STORAGE_KEY);
  }

  async signOut(): Promise<void> {
    this.forget();
    // Best effort: the session is gone locally either way.
    await api.logout(this.refreshToken).catch(() => undefined);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= withRefreshLock(async () => {
      const owned = this.ownsStorage();
      if (owned) this.refreshToken = readStored()?.refreshToken ?? this.refreshToken;
      this.apply(await api.refresh(this.refreshToken));
      if (owned) this.persist();
    })
      .catch((error: unknown) => {
        if (isRejected(error)) {
          if (this.ownsStorage()) localStorage.removeItem(STORAGE_KEY);
          this.emit('expired');
        }
        throw error;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private apply(response: SessionResponse): void {
    this.accessTokenValue = response.accessToken;
    this.expiresAt = Date.now() + response.expiresIn * 1000;
    this.refreshToken = response.refreshToken;
  }

  /** Another tab may since have signed in as someone else (or out): then storage is not ours to touch. */
  private ownsStorage(): boolean {
    return readStored()?.user.id === this.user.id;
  }

  private persist(): void {
    const stored: StoredSession = { refreshToken: this.refreshToken, user: this.user };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
  }
}

/**
 * The signed-in session: a short-lived access token in memory only, bought with the refresh token
 * that lives in an HttpOnly cookie the page cannot read (edge/src/auth/sessionCookie.ts), so a
 * reload stays signed in and no script on the page can carry the sign-in away.
 */
import {
  Emitter,
  type AcceptInviteRequest,
  type ChangePasswordRequest,
  type EraseAccountRequest,
  type LoginRequest,
  type SessionResponse,
  type UserView,
} from '@callstack/protocol';
import { api, ApiError } from './api.ts';

/** Where earlier versions kept the refresh token: removed on sight. */
const LEGACY_STORAGE_KEY = 'callstack.session';
/** Refresh this long before the access token expires, so a request never races its expiry. */
const EARLY_REFRESH_MS = 30_000;

/** The edge refused the token itself (as opposed to being unreachable). */
function isRejected(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 400 || error.status === 401);
}

/**
 * Refresh tokens are single-use and the cookie is shared by the browser's tabs, so tabs take
 * turns: inside the lock each presents the cookie as the previous tab left it.
 */
async function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  return 'locks' in navigator ? await navigator.locks.request('callstack.refresh', task) : task();
}

export class Session extends Emitter<{ expired: [] }> {
  readonly user: UserView;
  private accessTokenValue = '';
  private expiresAt = 0;
  private refreshing: Promise<void> | null = null;

  private constructor(response: SessionResponse) {
    super();
    this.user = response.user;
    this.apply(response);
  }

  static login(request: Omit<LoginRequest, 'session'>): Promise<Session> {
    return Session.begin(api.login(request));
  }

  /** The mailed sign-up link: the new organisation exists now, and the session is its first admin's. */
  static confirmSignup(token: string): Promise<Session> {
    return Session.begin(api.confirmSignup(token));
  }

  static acceptInvite(request: Omit<AcceptInviteRequest, 'session'>): Promise<Session> {
    return Session.begin(api.acceptInvite(request));
  }

  private static async begin(response: Promise<SessionResponse>): Promise<Session> {
    return new Session(await response);
  }

  /** The session the cookie holds from an earlier visit, or null when there is none or the edge revoked it. */
  static resume(): Promise<Session | null> {
    localStorage.removeItem(LEGACY_STORAGE_KEY);
    return withRefreshLock(async () => {
      try {
        return new Session(await api.refresh());
      } catch (error) {
        if (!isRejected(error)) throw error;
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

  /** A single-use ticket for one WebSocket upgrade (the access token never goes into a URL). */
  async socketTicket(): Promise<string> {
    return (await this.authed(api.socketTicket)).ticket;
  }

  /** The edge revokes every sign-in and answers with a new one for this device (in the cookie). */
  async changePassword(request: Omit<ChangePasswordRequest, 'session'>): Promise<void> {
    this.apply(await this.authed((token) => api.changePassword(token, request)));
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

  /** Drops the access token after the edge already ended the session (the cookie is then dead too). */
  forget(): void {
    this.accessTokenValue = '';
    this.expiresAt = 0;
  }

  async signOut(): Promise<void> {
    this.forget();
    // Best effort: the edge revokes the sign-in and clears the cookie.
    await api.logout().catch(() => undefined);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= withRefreshLock(async () => {
      const response = await api.refresh();
      // Another tab signed in as someone else since: the cookie is theirs now, this session is over.
      if (response.user.id !== this.user.id) throw new ApiError(401, 'unauthorized', 'signed in as someone else in another tab');
      this.apply(response);
    })
      .catch((error: unknown) => {
        if (isRejected(error)) this.emit('expired');
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
  }
}

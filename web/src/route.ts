/**
 * The app's few addresses, read from `location` and changed with the History API (the Worker
 * serves index.html for every non-API path). Invite and password-reset tokens travel in the
 * fragment so they never reach a server log.
 */
import { useEffect, useState } from 'preact/hooks';
import * as v from 'valibot';
import { AcceptInviteRequest, PasswordResetConfirmRequest, RoomJoin, SignupConfirmRequest } from '@callstack/protocol';

export type AdminTab = 'users' | 'numbers' | 'billing' | 'api-keys' | 'audit';

export type Route =
  | { screen: 'phone' }
  | { screen: 'admin'; tab: AdminTab }
  | { screen: 'profile' }
  | { screen: 'meetings' }
  | { screen: 'room'; roomId: string }
  | { screen: 'recordings' }
  | { screen: 'voicemail' }
  | { screen: 'signup' }
  /** The mailed sign-up link, `/signup#<token>`. */
  | { screen: 'signup-confirm'; token: string }
  | { screen: 'forgot-password' }
  /** `token` is null when the link lost its fragment or was mangled. */
  | { screen: 'invite'; token: string | null }
  | { screen: 'reset'; token: string | null };

/** A room id in the shape the edge accepts. */
const RoomId = RoomJoin.entries.roomId;

const ADMIN_TABS: Record<string, AdminTab> = { '': 'users', users: 'users', numbers: 'numbers', billing: 'billing', 'api-keys': 'api-keys', audit: 'audit' };

export function parseRoute(pathname: string, hash: string): Route {
  const path = pathname.replace(/\/+$/, '');
  if (path === '/signup') {
    const token = signupToken(hash);
    return token === null ? { screen: 'signup' } : { screen: 'signup-confirm', token };
  }
  if (path === '/profile') return { screen: 'profile' };
  if (path === '/recordings') return { screen: 'recordings' };
  if (path === '/voicemail') return { screen: 'voicemail' };
  if (path === '/forgot-password') return { screen: 'forgot-password' };
  if (path === '/invite') return { screen: 'invite', token: inviteToken(hash) };
  if (path === '/reset') return { screen: 'reset', token: resetToken(hash) };
  if (path === '/rooms') return { screen: 'meetings' };
  const room = /^\/rooms\/([^/]+)$/.exec(path);
  if (room) {
    const roomId = safeDecode(room[1]!);
    return roomId !== null && v.is(RoomId, roomId) ? { screen: 'room', roomId } : { screen: 'meetings' };
  }
  const admin = /^\/admin(?:\/([a-z-]+))?$/.exec(path);
  const tab = admin ? ADMIN_TABS[admin[1] ?? ''] : undefined;
  if (tab) return { screen: 'admin', tab };
  return { screen: 'phone' };
}

export function routePath(route: Route): string {
  switch (route.screen) {
    case 'phone':
      return '/';
    case 'profile':
      return '/profile';
    case 'meetings':
      return '/rooms';
    case 'room':
      return `/rooms/${encodeURIComponent(route.roomId)}`;
    case 'recordings':
      return '/recordings';
    case 'voicemail':
      return '/voicemail';
    case 'signup':
    case 'signup-confirm':
      return '/signup';
    case 'forgot-password':
      return '/forgot-password';
    case 'invite':
      return '/invite';
    case 'reset':
      return '/reset';
    case 'admin':
      return route.tab === 'users' ? '/admin' : `/admin/${route.tab}`;
  }
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * The room id in what someone pasted to join: a meeting link (`…/rooms/<id>`, any host) or the
 * bare id; null when it is neither.
 */
export function roomIdFromLink(text: string): string | null {
  const trimmed = text.trim();
  const fromPath = /\/rooms\/([^/?#\s]+)/.exec(trimmed)?.[1];
  const candidate = fromPath === undefined ? trimmed : safeDecode(fromPath);
  return candidate !== null && v.is(RoomId, candidate) ? candidate : null;
}

/** The token of `#<token>`, if it has the shape `schema` (the edge's) accepts. */
function fragmentToken(hash: string, schema: v.GenericSchema<string>): string | null {
  let candidate: string;
  try {
    candidate = decodeURIComponent(hash.replace(/^#/, '')).trim();
  } catch {
    return null;
  }
  return v.is(schema, candidate) ? candidate : null;
}

export const inviteToken = (hash: string) => fragmentToken(hash, AcceptInviteRequest.entries.token);
export const signupToken = (hash: string) => fragmentToken(hash, SignupConfirmRequest.entries.token);
export const resetToken = (hash: string) => fragmentToken(hash, PasswordResetConfirmRequest.entries.token);

/** Goes to `path` in this tab; `replace` keeps the current entry out of the back history. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const read = () => parseRoute(location.pathname, location.hash);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

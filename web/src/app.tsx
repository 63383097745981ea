import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import type { CallRecordView, DirectoryEntry } from '@callstack/protocol';
import { api, errorMessage } from './api.ts';
import { CallController, isLive } from './call.ts';
import { AcceptInviteView } from './components/AcceptInviteView.tsx';
import { AdminConsole } from './components/admin/AdminConsole.tsx';
import { CallHistory } from './components/CallHistory.tsx';
import { CallPanel } from './components/CallPanel.tsx';
import { Directory } from './components/Directory.tsx';
import { Link } from './components/Link.tsx';
import { LoginView } from './components/LoginView.tsx';
import { Settings } from './components/Settings.tsx';
import { SignupView } from './components/SignupView.tsx';
import { useFetched } from './hooks.ts';
import { consoleAccess } from './roles.ts';
import { navigate, useRoute, type Route } from './route.ts';
import { Session } from './session.ts';
import { iceTransportPolicy } from './settings.ts';
import { SignalingClient, tabDeviceId, type SignalingStatus } from './signaling.ts';

declare global {
  interface Window {
    /** Test hook for the e2e suite (reads getStats of the current or last call). */
    __callstack?: { peerConnection: () => RTCPeerConnection | null };
  }
}

type Auth =
  | { status: 'loading' }
  | { status: 'signed-out'; notice: string | null }
  | { status: 'signed-in'; session: Session };

export function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>({ status: 'loading' });

  useEffect(() => {
    // A sign-in that finished meanwhile (an invite accepted, say) wins over the stored session.
    const settle = (next: Auth) => setAuth((current) => (current.status === 'loading' ? next : current));
    Session.resume().then(
      (session) => settle(session ? { status: 'signed-in', session } : { status: 'signed-out', notice: null }),
      (error: unknown) => settle({ status: 'signed-out', notice: errorMessage(error) }),
    );
  }, []);

  const session = auth.status === 'signed-in' ? auth.session : null;
  useEffect(
    () =>
      session?.on('expired', () =>
        setAuth({ status: 'signed-out', notice: 'Your session has expired. Please sign in again.' }),
      ),
    [session],
  );

  // Signed in, the sign-up screen is the softphone.
  const signupWhileSignedIn = session !== null && route.screen === 'signup';
  useEffect(() => {
    if (signupWhileSignedIn) navigate('/', { replace: true });
  }, [signupWhileSignedIn]);

  function signedIn(signedInSession: Session): void {
    setAuth({ status: 'signed-in', session: signedInSession });
    if (route.screen === 'signup' || route.screen === 'invite') navigate('/', { replace: true });
  }

  // Shown even when someone is signed in here: the invite may be for another person on this browser.
  if (route.screen === 'invite') {
    return <AcceptInviteView token={route.token} signedInAs={session?.user.displayName ?? null} onSignedIn={signedIn} />;
  }
  switch (auth.status) {
    case 'loading':
      return (
        <main class="splash" aria-busy="true">
          Loading…
        </main>
      );
    case 'signed-out':
      return route.screen === 'signup' ? (
        <SignupView onSignedIn={signedIn} />
      ) : (
        <LoginView notice={auth.notice} onSignedIn={signedIn} />
      );
    case 'signed-in':
      return (
        <Workspace
          session={auth.session}
          route={route}
          onSignedOut={() => setAuth({ status: 'signed-out', notice: null })}
        />
      );
  }
}

const LINK_LABELS: Record<SignalingStatus, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  replaced: 'Opened in another window',
};

interface WorkspaceProps {
  session: Session;
  route: Route;
  onSignedOut: () => void;
}

/**
 * Everything behind sign-in: the softphone and, for admins and operators, the console. Signaling
 * lives here rather than in the softphone view, so calls keep ringing while the console is open.
 */
function Workspace({ session, route, onSignedOut }: WorkspaceProps) {
  const { signaling, call } = useMemo(() => {
    const client = new SignalingClient({ deviceId: tabDeviceId(), accessToken: (renew) => session.accessToken(renew) });
    const controller = new CallController({
      signaling: client,
      iceServers: () => session.authed(api.turnCredentials).then((response) => response.iceServers),
      iceTransportPolicy,
    });
    return { signaling: client, call: controller };
  }, [session]);

  const [link, setLink] = useState(signaling.status);
  const [, rerender] = useReducer((count: number) => count + 1, 0);

  useEffect(() => {
    const unsubscribe = [signaling.on('status', setLink), call.on('change', () => rerender(undefined))];
    window.__callstack = { peerConnection: () => call.peerConnection };
    // Hang up properly when the tab goes away, so the other side doesn't see a lost connection.
    const leave = () => call.end();
    // Escape ends whatever call is up, except inside a text field where it means "clear".
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !(event.target instanceof HTMLInputElement)) call.end();
    };
    addEventListener('pagehide', leave);
    addEventListener('keydown', onKeyDown);
    signaling.start();
    return () => {
      removeEventListener('pagehide', leave);
      removeEventListener('keydown', onKeyDown);
      for (const off of unsubscribe) off();
      call.dispose();
      signaling.stop();
      delete window.__callstack;
    };
  }, [signaling, call]);

  const { phase, callId } = call.state;
  const directory = useFetched<DirectoryEntry[]>(session.user.id, () => session.authed(api.users).then((r) => r.users));
  // Reload after each call (and again once back to idle, when the record has surely been written).
  const history = useFetched<CallRecordView[]>(isLive(phase) ? null : `${phase}:${callId ?? ''}`, () =>
    session.authed(api.calls).then((r) => r.calls),
  );

  const callBlocked =
    link !== 'online' ? 'Not connected yet' : isLive(phase) ? 'Finish the current call first' : null;

  function signOut(): void {
    onSignedOut();
    void session.signOut();
  }

  const access = consoleAccess(session.user.role);
  const adminTab = route.screen === 'admin' && access.console ? route.tab : null;

  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand">CallStack</span>
        <span class={`link link-${link}`}>
          {/* The dot carries the name because narrow screens hide the text next to it. */}
          <span class="link-dot" role="img" aria-label={LINK_LABELS[link]} />
          <span class="link-label" aria-hidden="true">
            {LINK_LABELS[link]}
          </span>
        </span>
        {access.console && (
          <nav class="nav" aria-label="Sections">
            <Link href="/" class="nav-link" current={adminTab === null} testid="nav-phone">
              Phone
            </Link>
            <Link href="/admin" class="nav-link" current={adminTab !== null} testid="nav-admin">
              Admin
            </Link>
          </nav>
        )}
        <span class="topbar-spacer" />
        <Settings />
        <span class="me" data-testid="me" title={session.user.email}>
          {session.user.displayName}
        </span>
        <button type="button" class="btn btn-ghost btn-small" onClick={signOut}>
          Sign out
        </button>
      </header>
      {adminTab ? (
        <main class="admin">
          {/* A call that rings or runs while the console is open stays answerable here. */}
          {phase !== 'idle' && <CallPanel call={call} />}
          <AdminConsole session={session} tab={adminTab} access={access} />
        </main>
      ) : (
        <main class="layout">
          <CallPanel call={call} />
          <Directory
            users={directory.data}
            error={directory.error}
            selfId={session.user.id}
            callBlocked={callBlocked}
            onCall={(user) => call.call({ userId: user.id, displayName: user.displayName })}
          />
          <CallHistory calls={history.data} error={history.error} />
        </main>
      )}
    </div>
  );
}

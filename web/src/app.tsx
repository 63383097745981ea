import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { CallRecordView, DirectoryEntry, Party } from '@callstack/protocol';
import { api, errorMessage } from './api.ts';
import { CallController, isLive } from './call.ts';
import type { Conference } from './conference/index.ts';
import { Avatar } from './components/Avatar.tsx';
import { CallHistory } from './components/CallHistory.tsx';
import { CallPanel } from './components/CallPanel.tsx';
import { Contacts } from './components/Contacts.tsx';
import { Directory } from './components/Directory.tsx';
import { Link } from './components/Link.tsx';
import { LoginView } from './components/LoginView.tsx';
import { StatusControl } from './components/Presence.tsx';
import { VoicemailSummary } from './components/VoicemailSummary.tsx';
import { Settings } from './components/Settings.tsx';
import { useFetched } from './hooks.ts';
import { lazyComponent } from './lazy.tsx';
import { MyPresence } from './myPresence.ts';
import { PresenceWatcher, statusOf } from './presence.ts';
import { consoleAccess } from './roles.ts';
import { navigate, useRoute, type Route } from './route.ts';
import { Session } from './session.ts';
import { iceTransportPolicy, idleAfterMs } from './settings.ts';
import { SignalingClient, tabDeviceId, type SignalingStatus } from './signaling.ts';

// Loaded on demand, each group its own chunk: the meetings (with mediasoup-client), the admin
// console, the person's own pages, and the signed-out screens reached by a link.
const meetings = () => import('./screens/meetings.ts');
const account = () => import('./screens/account.ts');
const onboarding = () => import('./screens/onboarding.ts');
const Meetings = lazyComponent(() => meetings().then((module) => module.Meetings), 'meetings');
const RoomView = lazyComponent(() => meetings().then((module) => module.RoomView), 'the meeting');
const AdminConsole = lazyComponent(() => import('./screens/admin.ts').then((module) => module.AdminConsole), 'the admin console');
const ProfileView = lazyComponent(() => account().then((module) => module.ProfileView), 'your profile');
const Recordings = lazyComponent(() => account().then((module) => module.Recordings), 'recordings');
const Voicemail = lazyComponent(() => account().then((module) => module.Voicemail), 'voicemail');
const SignupView = lazyComponent(() => onboarding().then((module) => module.SignupView), 'sign-up');
const ConfirmSignupView = lazyComponent(() => onboarding().then((module) => module.ConfirmSignupView), 'sign-up');
const AcceptInviteView = lazyComponent(() => onboarding().then((module) => module.AcceptInviteView), 'the invitation');
const ForgotPasswordView = lazyComponent(() => onboarding().then((module) => module.ForgotPasswordView), 'password reset');
const ResetPasswordView = lazyComponent(() => onboarding().then((module) => module.ResetPasswordView), 'password reset');

declare global {
  interface Window {
    /** Test hooks for the e2e suites: the current or last call's connection, the open meeting. */
    __callstack?: { peerConnection: () => RTCPeerConnection | null; conference: () => Conference | null; callConference: () => Conference | null };
  }
}

type Auth = { status: 'loading' } | { status: 'signed-out'; notice: string | null } | { status: 'signed-in'; session: Session };

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
  useEffect(() => session?.on('expired', () => setAuth({ status: 'signed-out', notice: 'Your session has expired. Please sign in again.' })), [session]);

  // Signed in, the sign-up and forgotten-password screens are the softphone.
  const signedOutScreenWhileSignedIn = session !== null && (route.screen === 'signup' || route.screen === 'forgot-password');
  useEffect(() => {
    if (signedOutScreenWhileSignedIn) navigate('/', { replace: true });
  }, [signedOutScreenWhileSignedIn]);

  function signedOut(notice: string | null): void {
    setAuth({ status: 'signed-out', notice });
    // Read from location: this runs from socket events, after the route may have changed.
    if (location.pathname !== '/') navigate('/', { replace: true });
  }

  function signedIn(signedInSession: Session): void {
    setAuth({ status: 'signed-in', session: signedInSession });
    if (route.screen === 'signup' || route.screen === 'signup-confirm' || route.screen === 'invite') navigate('/', { replace: true });
  }

  // Shown even when someone is signed in here: the link signs its owner in, as an invite does.
  if (route.screen === 'signup-confirm') return <ConfirmSignupView token={route.token} onSignedIn={signedIn} />;

  // Shown even when someone is signed in here: the invite may be for another person on this browser.
  if (route.screen === 'invite') {
    return <AcceptInviteView token={route.token} signedInAs={session?.user.displayName ?? null} onSignedIn={signedIn} />;
  }
  // Also shown when signed in: the reset signs out every device, this one included.
  if (route.screen === 'reset') {
    return (
      <ResetPasswordView
        token={route.token}
        onReset={() => {
          session?.forget();
          signedOut('Your password has been changed. Sign in with the new one.');
        }}
      />
    );
  }
  switch (auth.status) {
    case 'loading':
      return (
        <main class="splash" aria-busy="true">
          Loading…
        </main>
      );
    case 'signed-out':
      if (route.screen === 'signup') return <SignupView />;
      if (route.screen === 'forgot-password') return <ForgotPasswordView />;
      return <LoginView notice={auth.notice} onSignedIn={signedIn} />;
    case 'signed-in':
      return <Workspace session={auth.session} route={route} onSignedOut={signedOut} />;
  }
}

/** The page's name: its `h1` (for screen readers; the design shows it in the navigation) and the tab title. */
function pageTitle(route: Route, allowed: boolean): string {
  switch (route.screen) {
    case 'admin':
      return allowed ? 'Admin console' : 'Not allowed';
    case 'meetings':
      return 'Meetings';
    case 'room':
      return 'Meeting';
    case 'recordings':
      return 'Recordings';
    case 'voicemail':
      return 'Voicemail';
    case 'profile':
      return 'Profile';
    default:
      return 'Phone';
  }
}

const FAVICON_RINGING = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#c62828"/></svg>')}`;

/** The tab's title (and, while a call rings, a red favicon), so a call is noticed from another tab. */
function useTabTitle(title: string, ringing: boolean): void {
  useEffect(() => {
    document.title = `${title} · CallStack`;
  }, [title]);
  useEffect(() => {
    const icon = document.querySelector<HTMLLinkElement>('link[rel=icon]');
    if (!icon || !ringing) return;
    const before = icon.href;
    icon.href = FAVICON_RINGING;
    return () => {
      icon.href = before;
    };
  }, [ringing]);
}

/** A route this role cannot open (the console for a user): said plainly, with the way back. */
function NotAllowed() {
  return (
    <section class="card not-allowed" data-testid="not-allowed">
      <h2>This page is not available to you</h2>
      <p class="muted">The admin console is for admins and operators of your organisation. Ask one of them if you need a change.</p>
      <div>
        <Link href="/" class="btn btn-primary" testid="back-to-phone">
          Back to the phone
        </Link>
      </div>
    </section>
  );
}

const LINK_LABELS: Record<SignalingStatus, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  replaced: 'Opened in another window',
  'signed-out': 'Signed out',
};

interface WorkspaceProps {
  session: Session;
  route: Route;
  /** `notice` says why, when it was not this person's own click on Sign out. */
  onSignedOut: (notice: string | null) => void;
}

/**
 * Everything behind sign-in: the softphone and, for admins and operators, the console. Signaling
 * lives here rather than in the softphone view, so calls keep ringing while the console is open.
 */
function Workspace({ session, route, onSignedOut }: WorkspaceProps) {
  const { signaling, call, watcher, me, iceServers } = useMemo(() => {
    const socketOptions = { deviceId: tabDeviceId(), ticket: () => session.socketTicket() };
    const client = new SignalingClient(socketOptions);
    const fetchIceServers = () => session.authed(api.turnCredentials).then((response) => response.iceServers);
    const controller = new CallController({ signaling: client, iceServers: fetchIceServers, iceTransportPolicy });
    return {
      signaling: client,
      call: controller,
      watcher: new PresenceWatcher(socketOptions),
      me: new MyPresence(client, idleAfterMs()),
      iceServers: fetchIceServers,
    };
  }, [session]);
  const conference = useRef<Conference | null>(null);
  const onConference = useCallback((current: Conference | null) => {
    conference.current = current;
  }, []);

  const [link, setLink] = useState(signaling.status);
  const [presence, setPresence] = useState(watcher.state);
  const [myPresence, setMyPresence] = useState(me.state);
  const [, rerender] = useReducer((count: number) => count + 1, 0);

  useEffect(() => {
    // The edge closes both sockets when the account is signed out everywhere or deactivated.
    const endedElsewhere = (status: SignalingStatus) => {
      if (status !== 'signed-out') return;
      session.forget();
      onSignedOut('You have been signed out: signed out everywhere, or your account is no longer active.');
    };
    const unsubscribe = [
      signaling.on('status', setLink),
      signaling.on('status', endedElsewhere),
      watcher.on('status', endedElsewhere),
      watcher.on('change', setPresence),
      me.on('change', setMyPresence),
      call.on('change', () => rerender(undefined)),
    ];
    window.__callstack = { peerConnection: () => call.peerConnection, conference: () => conference.current, callConference: () => call.conference };
    // Hang up properly when the tab goes away, so the other side doesn't see a lost connection.
    const leave = () => call.end();
    // Escape ends whatever call is up, except inside form controls, where it clears or closes them.
    const onKeyDown = (event: KeyboardEvent) => {
      const inControl = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLTextAreaElement;
      if (event.key === 'Escape' && !inControl) call.end();
    };
    addEventListener('pagehide', leave);
    addEventListener('keydown', onKeyDown);
    signaling.start();
    watcher.start();
    return () => {
      removeEventListener('pagehide', leave);
      removeEventListener('keydown', onKeyDown);
      for (const off of unsubscribe) off();
      call.dispose();
      me.dispose();
      signaling.stop();
      watcher.stop();
      delete window.__callstack;
    };
  }, [signaling, call, watcher, me]);

  const { phase, callId } = call.state;
  const directory = useFetched<DirectoryEntry[]>(session.user.id, () => session.authed(api.users).then((r) => r.users));
  // Reload after each call (and again once back to idle, when the record has surely been written).
  const history = useFetched<CallRecordView[]>(isLive(phase) ? null : `${phase}:${callId ?? ''}`, () => session.authed(api.calls).then((r) => r.calls));

  const callBlocked = link !== 'online' ? 'Not connected yet' : isLive(phase) ? 'Finish the current call first' : null;

  function signOut(): void {
    onSignedOut(null);
    void session.signOut();
  }

  const access = consoleAccess(session.user.role);
  const adminTab = route.screen === 'admin' && access.console ? route.tab : null;
  const inMeetings = route.screen === 'meetings' || route.screen === 'room';
  const presenceOf = (userId: string) => statusOf(presence, userId);
  const colleagues = (directory.data ?? []).filter((user) => user.id !== session.user.id);
  const [recordCalls, setRecordCalls] = useState(false);
  // An outside party (a contact's number, a line in the history) is dialled; a colleague is invited.
  const startCall = (peer: Party) => (peer.number ? call.dial(peer.number) : call.call(peer, recordCalls));

  const title = pageTitle(route, adminTab !== null || route.screen !== 'admin');
  useTabTitle(phase === 'incoming' && call.state.peer ? `Incoming call: ${call.state.peer.displayName}` : title, phase === 'incoming');
  const heading = (
    <h1 class="sr-only" id="page-title">
      {title}
    </h1>
  );

  let main;
  if (route.screen === 'admin' && !access.console) {
    main = (
      <main class="admin" aria-labelledby="page-title">
        {heading}
        {phase !== 'idle' && <CallPanel call={call} colleagues={directory.data} />}
        <NotAllowed />
      </main>
    );
  } else if (route.screen === 'meetings' || route.screen === 'room') {
    main = (
      <main class={route.screen === 'room' ? 'room-main' : 'admin'} aria-labelledby="page-title">
        {heading}
        {/* A call that rings while in a meeting stays answerable here. */}
        {phase !== 'idle' && <CallPanel call={call} colleagues={directory.data} />}
        {route.screen === 'room' ? (
          <RoomView
            key={route.roomId}
            roomId={route.roomId}
            signaling={signaling}
            iceServers={iceServers}
            myName={session.user.displayName}
            me={{ userId: session.user.id, role: session.user.role }}
            onConference={onConference}
          />
        ) : (
          <Meetings signaling={signaling} online={link === 'online'} />
        )}
      </main>
    );
  } else if (adminTab || route.screen === 'profile' || route.screen === 'recordings' || route.screen === 'voicemail') {
    main = (
      <main class="admin" aria-labelledby="page-title">
        {heading}
        {/* A call that rings or runs while the console or profile is open stays answerable here. */}
        {phase !== 'idle' && <CallPanel call={call} colleagues={directory.data} />}
        {adminTab ? (
          <AdminConsole session={session} tab={adminTab} access={access} />
        ) : route.screen === 'recordings' ? (
          <Recordings session={session} />
        ) : route.screen === 'voicemail' ? (
          <Voicemail session={session} />
        ) : (
          <ProfileView session={session} onEnded={onSignedOut} />
        )}
      </main>
    );
  } else {
    main = (
      <main class="layout" aria-labelledby="page-title">
        {heading}
        {/* Two columns on wide screens (people and contacts; the call and its history); one below 900 px, the call first. */}
        <div class="layout-side">
          <Directory
            users={directory.data}
            error={directory.error}
            selfId={session.user.id}
            presenceOf={presenceOf}
            callBlocked={callBlocked}
            onCall={(user) => startCall({ userId: user.id, displayName: user.displayName })}
            onDialNumber={(number) => call.dial(number)}
          />
          <Contacts session={session} colleagues={colleagues} presenceOf={presenceOf} callBlocked={callBlocked} onCall={startCall} />
        </div>
        <div class="layout-main">
          <CallPanel
            call={call}
            record={{ on: recordCalls, onChange: setRecordCalls }}
            colleagues={directory.data}
            onCall={callBlocked === null ? startCall : undefined}
          />
          <VoicemailSummary session={session} />
          <CallHistory calls={history.data} error={history.error} onCall={callBlocked === null ? startCall : undefined} />
        </div>
      </main>
    );
  }

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
        <nav class="nav" aria-label="Sections">
          <Link href="/" class="nav-link" current={route.screen === 'phone'} testid="nav-phone">
            Phone
          </Link>
          <Link href="/rooms" class="nav-link" current={inMeetings} testid="nav-meetings">
            Meetings
          </Link>
          <Link href="/recordings" class="nav-link" current={route.screen === 'recordings'} testid="nav-recordings">
            Recordings
          </Link>
          {access.console && (
            <Link href="/admin" class="nav-link" current={adminTab !== null} testid="nav-admin">
              Admin
            </Link>
          )}
        </nav>
        <span class="topbar-spacer" />
        <StatusControl presence={myPresence} enabled={link === 'online'} onChoose={(status) => me.choose(status)} />
        <Settings onSignOut={signOut} />
        <Link href="/profile" class="me" current={route.screen === 'profile'} testid="me" title={`Profile: ${session.user.email}`}>
          <Avatar name={session.user.displayName} />
          <span class="me-name">{session.user.displayName}</span>
        </Link>
        <button type="button" class="btn btn-ghost btn-small sign-out" onClick={signOut}>
          Sign out
        </button>
      </header>
      {main}
    </div>
  );
}

import { can, type Role } from '@callstack/protocol';
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { Conference, type ConferenceState, type RoomSignaling, type TileView } from '../conference/index.ts';
import { navigate } from '../route.ts';
import { iceTransportPolicy } from '../settings.ts';
import { CopyField } from './CopyField.tsx';
import { QualityIndicator, QualityWarning } from './QualityIndicator.tsx';
import { RemoteAudio } from './room/RemoteAudio.tsx';
import { RecordButton, RecordingIndicator } from './room/Recording.tsx';
import { RoomControls } from './room/RoomControls.tsx';
import { Tile, type TileModel } from './room/Tile.tsx';

interface RoomViewProps {
  roomId: string;
  signaling: RoomSignaling;
  iceServers: () => Promise<RTCIceServer[]>;
  myName: string;
  /** Who is signed in: the room's creator and `recordings.manage` roles get the Record button. */
  me: { userId: string; role: Role };
  /** The conference while this view shows it (the app's test hook reads its stats). */
  onConference: (conference: Conference | null) => void;
  /** Extra badges for the header, after the quality indicator (recording…). */
  badges?: ComponentChildren;
  /** Extra buttons for the controls bar. */
  controls?: ComponentChildren;
}

const PHASE_LABELS: Record<ConferenceState['phase'], string> = {
  idle: 'Starting…',
  joining: 'Joining…',
  joined: 'In the meeting',
  reconnecting: 'Reconnecting…',
  left: 'You left the meeting',
  failed: 'Could not join',
};

/** The meeting: a grid of tiles filling the screen, or one large (pinned, shared screen, speaker) beside a filmstrip; the controls. */
export function RoomView({ roomId, signaling, iceServers, myName, me, onConference, badges, controls }: RoomViewProps) {
  const [attempt, setAttempt] = useState(0);
  // A new attempt (Try again) is a new conference; `attempt` only keys the memo.
  const conference = useMemo(() => new Conference(roomId, { signaling, iceServers, iceTransportPolicy }), [roomId, signaling, iceServers, attempt]);
  const [, rerender] = useReducer((count: number) => count + 1, 0);
  const [pinned, setPinned] = useState<string | null>(null);
  const [layout, setLayout] = useState<Layout>('gallery');
  const [selfCorner, setSelfCorner] = useState(0);
  const documentVisible = useDocumentVisible();

  useEffect(() => {
    const off = conference.on('change', () => rerender(undefined));
    onConference(conference);
    void conference.join();
    // Leave properly when the tab goes away, so the others drop our tile at once.
    const leave = () => void conference.leave();
    addEventListener('pagehide', leave);
    return () => {
      off();
      removeEventListener('pagehide', leave);
      onConference(null);
      void conference.leave();
    };
  }, [conference, onConference]);

  const { state } = conference;
  const tiles = tilesOf(state, conference, myName);
  const arrangement = arrange(tiles, { pinned, layout, speakerId: state.speakerId });
  const link = `${location.origin}/rooms/${roomId}`;
  const view = useCallback((producerId: string, tileView: TileView) => conference.viewTile(producerId, tileView), [conference]);
  const togglePin = (key: string) => setPinned((current) => (current === key ? null : key));
  // The edge decides; this only spares others a button that would be refused.
  const mayRecord = state.createdBy === me.userId || can(me.role, 'recordings.manage');
  const alone = state.participants.length === 0;
  const tile = (model: TileModel, large: boolean) => (
    <Tile key={model.key} tile={model} large={large} documentVisible={documentVisible} onView={view} pinned={model.key === pinned} onPin={togglePin} />
  );

  if (state.phase === 'failed' || state.phase === 'left') {
    return (
      <section class="card room-ended" data-testid="room-view" data-phase={state.phase} data-room-id={roomId}>
        <h2>{PHASE_LABELS[state.phase]}</h2>
        {state.error && (
          <p class="error" role="alert" data-testid="room-error">
            {state.error}
          </p>
        )}
        <div class="actions">
          <button type="button" class="btn btn-primary" data-testid="room-retry" onClick={() => setAttempt((n) => n + 1)}>
            {state.phase === 'failed' ? 'Try again' : 'Join again'}
          </button>
          <button type="button" class="btn" onClick={() => navigate('/rooms')}>
            Back to meetings
          </button>
        </div>
      </section>
    );
  }

  return (
    <section
      class="room"
      aria-labelledby="room-title"
      data-testid="room-view"
      data-phase={state.phase}
      data-room-id={roomId}
      data-peer-id={state.peerId ?? ''}
      data-migrations={state.migrations}
    >
      <header class="room-header">
        <h2 id="room-title">Meeting</h2>
        {/* One badge: how many are here once joined, else where joining stands. */}
        <span class={`badge room-phase room-phase-${state.phase}`} data-testid="room-phase" aria-live="polite">
          {state.phase === 'joined' ? <span data-testid="room-count">{state.participants.length + 1} in the meeting</span> : PHASE_LABELS[state.phase]}
        </span>
        <span class="room-badges" data-testid="room-badges">
          {/* Rated once someone else's audio arrives: alone in the room it keeps measuring. */}
          <QualityIndicator quality={state.quality} />
          <RecordingIndicator recording={state.recording} />
          {badges}
        </span>
        <span class="room-header-end">
          <button
            type="button"
            class="btn btn-small"
            data-testid="room-layout"
            data-layout={layout}
            disabled={alone}
            onClick={() => setLayout(layout === 'gallery' ? 'speaker' : 'gallery')}
          >
            {layout === 'gallery' ? 'Speaker view' : 'Gallery view'}
          </button>
          <CopyField id="room-link" label="Meeting link" value={link} testid="room-link" compact />
        </span>
      </header>
      <QualityWarning quality={state.quality} />
      {state.notice && (
        <p class="notice" role="status" data-testid="room-notice">
          {state.notice}
        </p>
      )}
      <div class={`room-body room-body-${arrangement.kind}`} data-testid="room-stage" data-layout={arrangement.kind}>
        {arrangement.kind === 'focus' ? (
          <>
            <div class="room-focus">
              {arrangement.focus ? (
                tile(arrangement.focus, true)
              ) : (
                <div class="presenting" data-testid="presenting" role="status">
                  <p class="presenting-title">You are presenting your screen</p>
                  <button type="button" class="btn" onClick={() => void conference.stopScreenShare()}>
                    Stop sharing
                  </button>
                </div>
              )}
            </div>
            <div class="room-strip" data-testid="room-grid">
              {arrangement.strip.map((model) => tile(model, false))}
            </div>
          </>
        ) : (
          <div class="room-grid" data-testid="room-grid" data-count={Math.min(arrangement.tiles.length, 10)} data-self-corner={SELF_CORNERS[selfCorner]}>
            {arrangement.tiles.map((model) => tile(model, false))}
            {/* Two of you: the other person fills the stage, your own view floats in a corner you choose. */}
            {arrangement.tiles.length === 2 && (
              <button
                type="button"
                class="btn btn-small self-move"
                data-testid="self-move"
                aria-label="Move your own view to the next corner"
                onClick={() => setSelfCorner((corner) => (corner + 1) % SELF_CORNERS.length)}
              >
                Move
              </button>
            )}
            {alone && (
              <div class="room-waiting" data-testid="room-waiting" role="status">
                <p class="room-waiting-title">Waiting for others to join</p>
                <p class="muted">Share the meeting link: anyone of your organisation with it can join.</p>
              </div>
            )}
          </div>
        )}
      </div>
      {state.media
        .filter((item) => item.kind === 'audio' && item.track)
        .map((item) => (
          <RemoteAudio key={item.producerId} track={item.track!} />
        ))}
      <RoomControls conference={conference}>
        {mayRecord && state.phase === 'joined' && <RecordButton conference={conference} />}
        {controls}
      </RoomControls>
    </section>
  );
}

type Layout = 'gallery' | 'speaker';
const SELF_CORNERS = ['bottom-right', 'bottom-left', 'top-left', 'top-right'] as const;

/**
 * Where each tile goes: a grid of equal tiles (gallery), or one large tile with the others in a
 * filmstrip beside it: a pinned tile, else someone's screen share, else (speaker view) the active
 * speaker. Presenting yourself, the large place says so instead of showing your own screen back.
 */
type Arrangement = { kind: 'grid'; tiles: TileModel[] } | { kind: 'focus'; focus: TileModel | null; strip: TileModel[] };

function arrange(tiles: TileModel[], { pinned, layout, speakerId }: { pinned: string | null; layout: Layout; speakerId: string | null }): Arrangement {
  const others = tiles.filter((tile) => !tile.self);
  const focus =
    tiles.find((tile) => tile.key === pinned) ??
    others.find((tile) => tile.source === 'screen') ??
    (layout === 'speaker' && others.length > 0 ? (others.find((tile) => tile.peerId === speakerId) ?? others[0]) : undefined);
  if (focus) return { kind: 'focus', focus, strip: tiles.filter((tile) => tile !== focus) };
  if (tiles.some((tile) => tile.self && tile.source === 'screen')) return { kind: 'focus', focus: null, strip: tiles };
  return { kind: 'grid', tiles };
}

function tilesOf(state: ConferenceState, conference: Conference, myName: string): TileModel[] {
  const selfId = state.peerId ?? 'self';
  const tiles: TileModel[] = [
    {
      key: `${selfId}:camera`,
      peerId: selfId,
      name: 'You',
      fullName: myName,
      self: true,
      source: 'camera',
      producerId: null,
      track: conference.localStream?.getVideoTracks()[0] ?? null,
      videoOff: !state.cameraOn,
      muted: !state.micOn,
      speaking: state.speakerId !== null && state.speakerId === state.peerId,
      consumerPaused: false,
    },
  ];
  if (state.sharing && conference.screenStream) {
    tiles.push({
      key: `${selfId}:screen`,
      peerId: selfId,
      name: 'Your screen',
      fullName: `${myName}’s screen`,
      self: true,
      source: 'screen',
      producerId: null,
      track: conference.screenStream.getVideoTracks()[0] ?? null,
      videoOff: false,
      muted: false,
      speaking: false,
      consumerPaused: false,
    });
  }
  for (const participant of state.participants) {
    const theirs = state.media.filter((item) => item.peerId === participant.peerId);
    const mic = theirs.find((item) => item.source === 'mic');
    const camera = theirs.find((item) => item.source === 'camera');
    tiles.push({
      key: `${participant.peerId}:camera`,
      peerId: participant.peerId,
      name: participant.displayName,
      fullName: participant.displayName,
      self: false,
      source: 'camera',
      producerId: camera?.producerId ?? null,
      track: camera?.track ?? null,
      videoOff: !camera || camera.paused,
      muted: mic?.paused ?? false,
      speaking: state.speakerId === participant.peerId,
      consumerPaused: camera?.consumerPaused ?? false,
    });
    for (const screen of theirs.filter((item) => item.source === 'screen')) {
      tiles.push({
        key: `${participant.peerId}:screen:${screen.producerId}`,
        peerId: participant.peerId,
        name: `${participant.displayName}’s screen`,
        fullName: `${participant.displayName}’s screen`,
        self: false,
        source: 'screen',
        producerId: screen.producerId,
        track: screen.track,
        videoOff: screen.paused,
        muted: false,
        speaking: false,
        consumerPaused: screen.consumerPaused,
      });
    }
  }
  return tiles;
}

function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

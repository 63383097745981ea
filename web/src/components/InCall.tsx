import type { DirectoryEntry, QualityUpdate } from '@callstack/protocol';
import { useEffect, useState } from 'preact/hooks';
import type { CallState } from '../call.ts';
import { formatDuration } from '../format.ts';
import { dialedNumber } from './Directory.tsx';
import { QualityIndicator, QualityWarning } from './QualityIndicator.tsx';

interface InCallProps {
  state: CallState;
  local: MediaStream | null;
  remote: MediaStream | null;
  /** The edge's rating of this device's media; null until the first report. */
  quality: QualityUpdate | null;
  /** The call's room is recording (recorded calls only). */
  recording: boolean;
  onToggleMute: () => void;
  onToggleCamera: () => void;
  onToggleHold: () => void;
  onHangup: () => void;
  /** Sends keypad digits (DTMF) to the other side. */
  onDigits: (digits: string) => void;
  /** Who the call may be transferred to, and the transfer itself: blind, or after consulting them first. */
  colleagues: DirectoryEntry[];
  onTransfer: (to: DirectoryEntry) => void;
  onConsult: (to: DirectoryEntry) => void;
  /** A consultation is under way (attended transfer): its own card completes or cancels it. */
  consulting: boolean;
}

const KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

export function InCall({
  state,
  local,
  remote,
  quality,
  recording,
  onToggleMute,
  onToggleCamera,
  onToggleHold,
  onHangup,
  onDigits,
  colleagues,
  onTransfer,
  onConsult,
  consulting,
}: InCallProps) {
  const [keypad, setKeypad] = useState(false);
  const [sent, setSent] = useState('');
  const [transferring, setTransferring] = useState(false);
  const [target, setTarget] = useState('');
  const [transferError, setTransferError] = useState<string | null>(null);
  // Letterboxed by default so nothing of the picture is lost; fill crops it to the stage on request.
  const [fill, setFill] = useState(false);
  const targetUser = (): DirectoryEntry | null => {
    const number = dialedNumber(target);
    const user = number && colleagues.find((each) => each.extension === number);
    setTransferError(user ? null : number ? `No colleague has extension ${number}.` : 'Type an extension, or a SIP address such as sip:101@your-domain.');
    return user || null;
  };
  const transfer = (event: Event) => {
    event.preventDefault();
    const user = targetUser();
    if (user) onTransfer(user);
  };
  const consult = () => {
    const user = targetUser();
    if (!user) return;
    setTransferring(false);
    onConsult(user);
  };
  const peerName = state.peer?.displayName ?? 'the other side';
  // Audio-only when the device has no camera (known once the local stream is open).
  const noCamera = local !== null && local.getVideoTracks().length === 0;
  return (
    <div class="in-call">
      <div class={`stage${fill ? ' stage-fill' : ''}`}>
        <video class="remote-video" data-testid="remote-video" aria-label={`Video from ${peerName}`} srcObject={remote} autoplay playsInline />
        {!remote && <p class="stage-note">{state.phase === 'active' ? 'No video' : 'Connecting…'}</p>}
        {remote && (
          <button type="button" class="btn btn-small stage-fit" data-testid="video-fill" aria-pressed={fill} onClick={() => setFill(!fill)}>
            Fill
          </button>
        )}
        <div class="self-view">
          <video class="local-video" data-testid="local-video" aria-label="Your camera" srcObject={local} autoplay playsInline muted />
          {state.muted && (
            <span class="badge self-muted" data-testid="self-muted">
              You’re muted
            </span>
          )}
        </div>
        <p class="stage-caption">
          <span class="stage-name">{state.peer?.displayName}</span>
          {state.peerMuted && (
            <span class="badge peer-muted" data-testid="peer-muted" role="status">
              Muted
            </span>
          )}
          {state.answeredAt !== null && <Timer since={state.answeredAt} />}
          {state.phase === 'active' && <QualityIndicator quality={quality} />}
          {recording && (
            <span class="badge badge-recording" data-testid="call-recording" role="status">
              Recording
            </span>
          )}
        </p>
      </div>
      <QualityWarning quality={quality} />
      {/* Mute says what a click does (Mute, Unmute); the other toggles keep their label and carry the state in aria-pressed. */}
      <div class="actions call-controls">
        <button type="button" class={`btn${state.muted ? ' btn-on' : ''}`} data-testid="mute" data-muted={state.muted} onClick={onToggleMute}>
          {state.muted ? 'Unmute' : 'Mute'}
        </button>
        <button type="button" class="btn" data-testid="camera" aria-pressed={state.cameraOff} disabled={noCamera} onClick={onToggleCamera}>
          Camera off
        </button>
        <button
          type="button"
          class="btn"
          data-testid="hold"
          aria-pressed={state.onHold}
          disabled={state.roomId !== null || state.phase !== 'active'}
          onClick={onToggleHold}
        >
          Hold
        </button>
        <button
          type="button"
          class="btn"
          data-testid="transfer-toggle"
          aria-pressed={transferring}
          disabled={state.roomId !== null || state.phase !== 'active' || consulting}
          onClick={() => setTransferring(!transferring)}
        >
          Transfer
        </button>
        <button
          type="button"
          class="btn"
          data-testid="keypad-toggle"
          aria-pressed={keypad}
          aria-controls={keypad ? 'keypad' : undefined}
          onClick={() => setKeypad(!keypad)}
        >
          Keypad
        </button>
        <button type="button" class="btn btn-danger" data-testid="hangup" disabled={state.pending === 'end'} onClick={onHangup}>
          Hang up
        </button>
      </div>
      {transferring && !consulting && (
        <form class="dial" data-testid="transfer-form" onSubmit={transfer}>
          <label class="field">
            <span>Transfer to (extension or SIP address)</span>
            <input id="transfer-target" autocomplete="off" placeholder="102" value={target} onInput={(event) => setTarget(event.currentTarget.value)} />
          </label>
          <button type="submit" class="btn btn-primary btn-small" data-testid="transfer-button">
            Transfer
          </button>
          <button type="button" class="btn btn-small" data-testid="consult-button" onClick={consult}>
            Consult first
          </button>
          {transferError && (
            <p class="error" role="alert" data-testid="transfer-error">
              {transferError}
            </p>
          )}
        </form>
      )}
      {keypad && (
        <div class="keypad" id="keypad" role="group" aria-label="Keypad">
          <output class="keypad-display" data-testid="keypad-display" aria-live="polite">
            {sent}
          </output>
          {KEYPAD.map((digit) => (
            <button
              key={digit}
              type="button"
              class="btn keypad-key"
              data-testid={`key-${digit}`}
              onClick={() => {
                onDigits(digit);
                setSent((before) => (before + digit).slice(-24));
              }}
            >
              {digit}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

function Timer({ since }: { since: number }) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return (
    <span class="timer" data-testid="call-timer" role="timer">
      {formatDuration(now - since, true)}
    </span>
  );
}

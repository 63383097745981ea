import type { DirectoryEntry, Party } from '@callstack/protocol';
import { isLive, outcomeOf, type CallController, type CallOutcome } from '../call.ts';
import { callStatusLabel, outcomeNotice } from '../format.ts';
import { Avatar } from './Avatar.tsx';
import { IncomingCall } from './IncomingCall.tsx';
import { InCall } from './InCall.tsx';

interface CallPanelProps {
  call: CallController;
  /** Whether the next call placed is recorded; shown (and changed) only while idle. */
  record?: { on: boolean; onChange: (on: boolean) => void };
  /** Whom a call may be transferred to (the directory). */
  colleagues?: DirectoryEntry[] | null;
  /** Calls someone (again, or back); absent where the panel offers no new call. */
  onCall?: (peer: Party) => void;
}

export function CallPanel({ call, record, colleagues, onCall }: CallPanelProps) {
  const { state } = call;
  const label = callStatusLabel(state);
  const end = () => call.end();
  const outcome = state.phase === 'idle' ? state.last : outcomeOf(state);
  const notice = outcome && <Outcome outcome={outcome} onCall={onCall} onDismiss={() => call.dismiss()} />;

  let body;
  switch (state.phase) {
    case 'idle':
      body = (
        <>
          {notice || <p class="muted call-hint">Pick someone under People to start a video call.</p>}
          {record && (
            <label class="check">
              <input type="checkbox" data-testid="call-record" checked={record.on} onChange={(event) => record.onChange(event.currentTarget.checked)} />
              Record my calls (the other side is told before answering)
            </label>
          )}
        </>
      );
      break;
    case 'incoming':
      body = state.peer && (
        <IncomingCall caller={state.peer} recorded={state.record} accepting={state.pending === 'accept'} onAccept={() => call.accept()} onReject={end} />
      );
      break;
    case 'connecting':
    case 'active':
      body = (
        <InCall
          state={state}
          local={call.localStream}
          remote={call.remoteStream}
          quality={call.qualityUpdate}
          recording={call.recording}
          onToggleMute={() => call.toggleMute()}
          onToggleCamera={() => call.toggleCamera()}
          onToggleHold={() => void call.toggleHold()}
          onHangup={end}
          onDigits={(digits) => call.sendDigits(digits)}
          colleagues={(colleagues ?? []).filter((user) => user.id !== state.peer?.userId)}
          onTransfer={(user) => call.transfer({ userId: user.id, displayName: user.displayName })}
          onConsult={(user) => call.consult({ userId: user.id, displayName: user.displayName })}
          consulting={call.consultation !== null}
        />
      );
      break;
    case 'calling':
    case 'ringing':
    case 'ended':
    case 'failed':
      body = state.peer && (
        <div class="call-card">
          <Avatar name={state.peer.displayName} size="large" />
          <p class="call-peer">{state.peer.displayName}</p>
          {notice}
          {(state.phase === 'calling' || state.phase === 'ringing') && (
            <div class="actions">
              <button type="button" class="btn btn-danger" data-testid="cancel" disabled={state.pending === 'end'} onClick={end}>
                Cancel
              </button>
            </div>
          )}
        </div>
      );
      break;
  }

  return (
    <section class="card call-panel" aria-label="Call">
      <p
        class={`call-status call-status-${state.phase}`}
        data-testid="call-status"
        data-state={state.phase}
        data-reason={state.reason ?? undefined}
        data-call-id={state.callId ?? undefined}
      >
        {label}
      </p>
      {/* Announces changes with the peer's name, which the status text above leaves out; a call coming in interrupts. */}
      <p class="sr-only" aria-live="polite">
        {state.peer && state.phase !== 'idle' && state.phase !== 'incoming' ? `${label}: ${state.peer.displayName}` : ''}
      </p>
      <p class="sr-only" aria-live="assertive">
        {state.phase === 'incoming' && state.peer ? `Incoming call from ${state.peer.displayName}` : ''}
      </p>
      {body}
      {call.consultation && <Consultation call={call} consultation={call.consultation} />}
    </section>
  );
}

/** How the last call ended, with what to do next (call again or back), until the next call or Dismiss. */
function Outcome({ outcome, onCall, onDismiss }: { outcome: CallOutcome; onCall?: (peer: Party) => void; onDismiss: () => void }) {
  const notice = outcomeNotice(outcome);
  if (!notice) return null;
  const { peer } = outcome;
  return (
    <div class={`outcome outcome-${notice.tone}`} data-testid="call-outcome" data-reason={outcome.reason ?? 'failed'}>
      <p class="outcome-text">{notice.text}</p>
      <div class="actions">
        {notice.action && onCall && (
          <button type="button" class="btn btn-primary" data-testid="call-again" onClick={() => onCall(peer)}>
            {notice.action === 'call-again' ? 'Call again' : `Call ${peer.displayName} back`}
          </button>
        )}
        <button type="button" class="btn" data-testid="dismiss-outcome" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}

/** Attended transfer: the second call, while the first is held; completing hands the held party over. */
function Consultation({ call, consultation }: { call: CallController; consultation: CallController }) {
  const { state } = consultation;
  return (
    <div class="consultation" data-testid="consultation" data-state={state.phase} data-call-id={state.callId ?? undefined}>
      <p class="call-status">
        {callStatusLabel(state)}
        {state.peer && `: ${state.peer.displayName}`}
      </p>
      <video
        class="consultation-video"
        data-testid="consultation-video"
        aria-label={`Video from ${state.peer?.displayName ?? 'the consulted colleague'}`}
        srcObject={consultation.remoteStream}
        autoplay
        playsInline
      />
      <div class="actions">
        <button
          type="button"
          class="btn btn-primary"
          data-testid="complete-transfer"
          disabled={state.phase !== 'active'}
          onClick={() => call.completeTransfer()}
        >
          Complete transfer
        </button>
        <button type="button" class="btn" data-testid="cancel-consultation" disabled={!isLive(state.phase)} onClick={() => call.cancelConsultation()}>
          Back to {call.state.peer?.displayName ?? 'the held call'}
        </button>
      </div>
    </div>
  );
}

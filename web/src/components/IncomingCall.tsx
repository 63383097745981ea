import { useEffect, useRef } from 'preact/hooks';
import type { Party } from '@callstack/protocol';
import { startRingtone } from '../ringtone.ts';
import { Avatar } from './Avatar.tsx';

interface IncomingCallProps {
  caller: Party;
  /** The caller asked to record the call: say so before the user answers. */
  recorded: boolean;
  /** Accept was clicked and the edge has not confirmed yet: stop ringing, wait. */
  accepting: boolean;
  onAccept: () => void;
  onReject: () => void;
}

export function IncomingCall({ caller, recorded, accepting, onAccept, onReject }: IncomingCallProps) {
  // Rings while shown and not yet accepted; unmounting (rejected, ended) stops it too.
  useEffect(() => (accepting ? undefined : startRingtone()), [accepting]);
  // Keyboard users land on Accept (Enter answers, Tab reaches Reject); the panel announces the call.
  const accept = useRef<HTMLButtonElement>(null);
  useEffect(() => accept.current?.focus(), []);
  return (
    <div class="call-card incoming" data-testid="incoming-call" role="group" aria-labelledby="incoming-title">
      <Avatar name={caller.displayName} size="large" />
      <p class="call-peer" id="incoming-title">
        {caller.displayName} <span class="muted">is calling</span>
      </p>
      {/* A caller from the phone network: the number too, which the name may be the user's own for. */}
      {caller.number && (
        <p class="muted" data-testid="caller-number">
          {caller.number}
        </p>
      )}
      {recorded && (
        <p class="call-notice" data-testid="call-recorded-notice" role="note">
          This call will be recorded
        </p>
      )}
      <div class="actions">
        <button ref={accept} type="button" class="btn btn-primary" data-testid="accept" disabled={accepting} onClick={onAccept}>
          Accept
        </button>
        <button type="button" class="btn btn-danger" data-testid="reject" disabled={accepting} onClick={onReject}>
          Reject
        </button>
      </div>
    </div>
  );
}

import type { ManualStatus, PresenceStatus } from '@callstack/protocol';
import { PRESENCE_LABELS } from '../format.ts';
import type { SelfPresence } from '../myPresence.ts';

/** A coloured dot with the status as its accessible name (colour alone says nothing to some). */
export function PresenceDot({ status }: { status: PresenceStatus }) {
  return (
    <span
      class={`presence-dot presence-${status}`}
      role="img"
      aria-label={PRESENCE_LABELS[status]}
      title={PRESENCE_LABELS[status]}
      data-testid="presence-dot"
      data-status={status}
    />
  );
}

const CHOICES: ManualStatus[] = ['online', 'away', 'dnd'];

interface StatusControlProps {
  presence: SelfPresence;
  /** False while signaling is offline: a choice could not be sent. */
  enabled: boolean;
  onChoose: (status: ManualStatus) => void;
}

/** The signed-in user's status as others see it, and the choice of Available / Away / Do not disturb. */
export function StatusControl({ presence, enabled, onChoose }: StatusControlProps) {
  const shown = presence.status ?? 'offline';
  return (
    <span class="my-presence" data-testid="my-presence" data-status={presence.status ?? undefined}>
      <PresenceDot status={shown} />
      <label for="presence-select" class="sr-only">
        My status
      </label>
      <select
        id="presence-select"
        data-testid="presence-select"
        value={presence.manual}
        disabled={!enabled}
        onChange={(event) => onChoose(event.currentTarget.value as ManualStatus)}
      >
        {CHOICES.map((choice) => (
          <option key={choice} value={choice}>
            {/* Busy comes from calls by itself; it shows on the dot and here while it lasts. */}
            {choice === 'online' && shown === 'busy' ? 'Busy (in a call)' : PRESENCE_LABELS[choice]}
          </option>
        ))}
      </select>
    </span>
  );
}

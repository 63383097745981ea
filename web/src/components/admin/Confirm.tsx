import { useEffect, useRef } from 'preact/hooks';

interface ConfirmProps {
  question: string;
  confirmLabel: string;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/** The second step of a destructive action, inline where it was asked for. Escape cancels. */
export function Confirm({ question, confirmLabel, busy, onConfirm, onCancel }: ConfirmProps) {
  const confirm = useRef<HTMLButtonElement>(null);
  // Keyboard users land on the decision they just asked for.
  useEffect(() => confirm.current?.focus(), []);
  return (
    <div
      class="confirm"
      role="group"
      aria-label={question}
      data-testid="confirm-step"
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <p>{question}</p>
      <div class="confirm-actions">
        <button ref={confirm} type="button" class="btn btn-danger btn-small" data-testid="confirm" disabled={busy} onClick={onConfirm}>
          {busy ? 'Working…' : confirmLabel}
        </button>
        <button type="button" class="btn btn-small" data-testid="cancel-confirm" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

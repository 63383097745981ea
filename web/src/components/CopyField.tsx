import { useEffect, useRef, useState } from 'preact/hooks';

/** How long "Copied" stays: a confirmation, not a state. */
const STATUS_MS = 2500;

interface CopyFieldProps {
  id: string;
  label: string;
  value: string;
  testid: string;
  /** In a toolbar: the label for screen readers only, the field narrow. */
  compact?: boolean;
}

/** A read-only value with a Copy button; if the clipboard is refused, the text is selected instead. */
export function CopyField({ id, label, value, testid, compact = false }: CopyFieldProps) {
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('');
  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(() => setStatus(''), STATUS_MS);
    return () => clearTimeout(timer);
  }, [status]);

  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(value);
      setStatus('Copied');
    } catch {
      input.current?.select();
      setStatus('Selected: press Ctrl+C (⌘C) to copy');
    }
  }

  return (
    <div class={`field${compact ? ' copy-compact' : ''}`}>
      <label for={id} class={compact ? 'sr-only' : undefined}>
        {label}
      </label>
      <div class="copy-row">
        <input id={id} ref={input} data-testid={testid} value={value} readOnly onFocus={(event) => event.currentTarget.select()} />
        <button
          type="button"
          class="btn btn-small"
          aria-label={compact ? `Copy link (${label})` : `Copy ${label.charAt(0).toLowerCase()}${label.slice(1)}`}
          onClick={() => void copy()}
        >
          {compact ? 'Copy link' : 'Copy'}
        </button>
      </div>
      <p class={`hint${compact ? ' copy-status' : ''}`} aria-live="polite">
        {status}
      </p>
    </div>
  );
}

import { useRef, useState } from 'preact/hooks';

/** A read-only value with a Copy button; if the clipboard is refused, the text is selected instead. */
export function CopyField({ id, label, value, testid }: { id: string; label: string; value: string; testid: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState('');

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
    <div class="field">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input id={id} ref={input} data-testid={testid} value={value} readOnly onFocus={(event) => event.currentTarget.select()} />
        <button type="button" class="btn btn-small" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p class="hint" aria-live="polite">
        {status}
      </p>
    </div>
  );
}

import { useState } from 'preact/hooks';
import { iceTransportPolicy, setIceTransportPolicy } from '../settings.ts';

/** `onSignOut`: narrow screens have no room for Sign out in the header, so it is offered here too. */
export function Settings({ onSignOut }: { onSignOut: () => void }) {
  const [relayOnly, setRelayOnly] = useState(() => iceTransportPolicy() === 'relay');
  return (
    <details class="settings">
      <summary>Settings</summary>
      <div class="settings-panel">
        <label class="check">
          <input
            type="checkbox"
            checked={relayOnly}
            aria-describedby="force-relay-hint"
            onChange={(event) => {
              const relay = event.currentTarget.checked;
              setIceTransportPolicy(relay ? 'relay' : 'all');
              setRelayOnly(relay);
            }}
          />
          Force relay (TURN only)
        </label>
        <p class="hint" id="force-relay-hint">
          Sends media only through the relay server, hiding your network address. Applies from the next call.
        </p>
        <button type="button" class="btn btn-small settings-sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </details>
  );
}

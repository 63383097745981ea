import { api } from '../api.ts';
import { useFetched } from '../hooks.ts';
import type { Session } from '../session.ts';
import { Link } from './Link.tsx';

/** On the phone page: how many messages wait unheard, and the way to them. */
export function VoicemailSummary({ session }: { session: Session }) {
  const list = useFetched('voicemail-summary', () => session.authed(api.voicemails).then((response) => response.voicemails));
  const unheard = list.data?.filter((message) => !message.heard).length ?? 0;
  return (
    <section class="card voicemail-summary-card" aria-labelledby="voicemail-summary-title" data-testid="voicemail-summary">
      <div class="card-head">
        <h2 id="voicemail-summary-title">Voicemail</h2>
        <Link href="/voicemail" class="btn btn-small" testid="nav-voicemail">
          Open
        </Link>
      </div>
      <p class="muted" data-testid="voicemail-unheard" data-count={unheard}>
        {list.data === null ? (list.error ?? 'Loading…') : unheard === 0 ? 'No new messages.' : `${unheard} new ${unheard === 1 ? 'message' : 'messages'}.`}
      </p>
    </section>
  );
}

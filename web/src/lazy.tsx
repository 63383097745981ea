/**
 * Screens loaded on demand (a chunk fetched with `import()` the first time one is shown), so the
 * page's first script stays small: the meetings with mediasoup-client, the admin console, the
 * person's own pages, the signed-out screens reached by a link (app.tsx, src/screens/).
 * While the chunk loads the screen says so; if it fails (offline, a deploy removed it), it says that,
 * with a button that tries again and one that reloads the page.
 */
import type { ComponentType, FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

type Loaded<P> = { status: 'loading' } | { status: 'ready'; component: ComponentType<P> } | { status: 'failed' };

/**
 * A component that renders `load()`'s component once its chunk has arrived. `what` names the screen
 * in the loading and error texts ("the meeting").
 */
export function lazyComponent<P extends object>(load: () => Promise<ComponentType<P>>, what: string): FunctionComponent<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<ComponentType<P>> | null = null;
  const fetchChunk = (): Promise<ComponentType<P>> => {
    pending ??= load().then(
      (component) => (loaded = component),
      (error: unknown) => {
        // Forgotten, so that Try again fetches it anew.
        pending = null;
        throw error;
      },
    );
    return pending;
  };

  function Lazy(props: P) {
    const [state, setState] = useState<Loaded<P>>(loaded ? { status: 'ready', component: loaded } : { status: 'loading' });
    const [attempt, setAttempt] = useState(0);
    useEffect(() => {
      if (state.status === 'ready') return;
      let current = true;
      fetchChunk().then(
        (component) => {
          if (current) setState({ status: 'ready', component });
        },
        () => {
          if (current) setState({ status: 'failed' });
        },
      );
      return () => {
        current = false;
      };
    }, [attempt]);

    if (state.status === 'ready') {
      const Component = state.component;
      return <Component {...props} />;
    }
    if (state.status === 'failed') {
      return (
        <section class="card lazy-failed" data-testid="lazy-failed">
          <p class="error" role="alert">
            Could not load {what}. Check your connection and try again, or reload the page if CallStack has just been updated.
          </p>
          <div class="actions">
            <button
              type="button"
              class="btn btn-primary"
              onClick={() => {
                setState({ status: 'loading' });
                setAttempt((n) => n + 1);
              }}
            >
              Try again
            </button>
            {/* After a deploy the old chunks are gone: the new index.html names the new ones. */}
            <button type="button" class="btn" onClick={() => location.reload()}>
              Reload the page
            </button>
          </div>
        </section>
      );
    }
    return (
      <p class="muted lazy-loading" role="status" aria-busy="true" data-testid="lazy-loading">
        Loading {what}…
      </p>
    );
  }
  Lazy.displayName = `Lazy(${what})`;
  return Lazy;
}

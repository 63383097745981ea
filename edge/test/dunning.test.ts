import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dunning, FRESH_DUNNING, GRACE_DAYS, RETRY_AFTER_DAYS, TRY_LEASE_MS, type DunningEvent, type DunningState } from '../src/billing/dunning.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 9);

/** Runs events in order, collecting every effect. */
function play(events: [DunningEvent, number][], state: DunningState = FRESH_DUNNING) {
  const effects = [];
  for (const [event, now] of events) {
    const next = dunning(state, event, now);
    state = next.state;
    effects.push(...next.effects);
  }
  return { state, effects };
}

const failed = (attempt: number): DunningEvent => ({ kind: 'failed', attempt, reason: 'Your card was declined.' });
const due: DunningEvent = { kind: 'due' };

describe('dunning', () => {
  it('tells the admins of a declined card, with the next try and the day calls stop', () => {
    const { state, effects } = dunning(FRESH_DUNNING, failed(1), T0);
    expect(state).toEqual({ attempts: 1, failures: 1, failedAt: T0, nextTryAt: T0 + RETRY_AFTER_DAYS[0] * DAY, suspendedAt: null });
    expect(effects).toEqual([
      {
        kind: 'notify',
        notice: { kind: 'payment_failed', attempt: 1, reason: 'Your card was declined.', nextTryAt: T0 + DAY, suspendAt: T0 + GRACE_DAYS * DAY },
      },
    ]);
  });

  it('tries again on schedule, counted from the first failure, and stops trying after the last', () => {
    let state = dunning(FRESH_DUNNING, failed(1), T0).state;
    const tries: number[] = [];
    for (let hour = 1; hour <= 24 * 13; hour++) {
      const now = T0 + hour * 3_600_000;
      const step = dunning(state, due, now);
      state = step.state;
      for (const effect of step.effects) {
        if (effect.kind !== 'try_payment') continue;
        tries.push(Math.round((now - T0) / DAY));
        // Each try is declined a minute later.
        state = dunning(state, failed(effect.attempt), now + 60_000).state;
      }
    }
    expect(tries).toEqual([...RETRY_AFTER_DAYS]);
    expect([state.attempts, state.failures, state.nextTryAt]).toEqual([1 + RETRY_AFTER_DAYS.length, 1 + RETRY_AFTER_DAYS.length, null]);
  });

  it('stops calls to the outside once the grace period has passed, once, and opens them again when paid', () => {
    const failedOnce = dunning(FRESH_DUNNING, failed(1), T0).state;
    const noTryLeft = { ...failedOnce, nextTryAt: null };
    expect(dunning(noTryLeft, due, T0 + GRACE_DAYS * DAY - 1).effects).toEqual([]);
    const stopped = dunning(noTryLeft, due, T0 + GRACE_DAYS * DAY);
    expect(stopped.state.suspendedAt).toBe(T0 + GRACE_DAYS * DAY);
    expect(stopped.effects).toEqual([{ kind: 'notify', notice: { kind: 'pstn_suspended' } }]);
    expect(dunning(stopped.state, due, T0 + GRACE_DAYS * DAY + DAY).effects).toEqual([]);
    expect(dunning(stopped.state, { kind: 'paid' }, T0 + 20 * DAY)).toEqual({
      state: FRESH_DUNNING,
      effects: [{ kind: 'notify', notice: { kind: 'pstn_restored' } }],
    });
  });

  it('a paid invoice that never stopped calls sends no news', () => {
    expect(dunning(dunning(FRESH_DUNNING, failed(1), T0).state, { kind: 'paid' }, T0 + DAY).effects).toEqual([]);
  });

  it('a try whose answer was lost is made again after the lease, under the same number (the same idempotency key)', () => {
    const failedOnce = dunning(FRESH_DUNNING, failed(1), T0).state;
    const started = dunning(failedOnce, due, T0 + DAY);
    expect(started.effects).toEqual([{ kind: 'try_payment', attempt: 2 }]);
    expect(dunning(started.state, due, T0 + DAY + TRY_LEASE_MS - 1).effects).toEqual([]);
    expect(dunning(started.state, due, T0 + DAY + TRY_LEASE_MS).effects).toEqual([{ kind: 'try_payment', attempt: 2 }]);
  });

  it('the same declined answer twice (a replayed try), or an older one, changes nothing and mails once', () => {
    const once = dunning(FRESH_DUNNING, failed(1), T0);
    expect(dunning(once.state, failed(1), T0 + 1000)).toEqual({ state: once.state, effects: [] });
    const second = play(
      [
        [due, T0 + DAY],
        [failed(2), T0 + DAY + 1000],
      ],
      once.state,
    );
    expect(dunning(second.state, failed(1), T0 + DAY + 2000)).toEqual({ state: second.state, effects: [] });
  });

  it('whatever happens, tries are numbered one by one and bounded, and calls stop only after the grace period', () => {
    const event = fc.oneof(fc.constant<DunningEvent>(due), fc.constant<DunningEvent>({ kind: 'paid' }), fc.integer({ min: 1, max: 6 }).map(failed));
    fc.assert(
      fc.property(fc.array(fc.tuple(event, fc.integer({ min: 0, max: 3 * DAY })), { maxLength: 60 }), (steps) => {
        let state = FRESH_DUNNING;
        let now = T0;
        for (const [event, gap] of steps) {
          now += gap;
          const before = state;
          const next = dunning(state, event, now);
          state = next.state;
          for (const effect of next.effects) {
            // The next try, or the unanswered one again.
            if (effect.kind === 'try_payment') expect(effect.attempt).toBe(before.attempts > before.failures ? before.attempts : before.attempts + 1);
          }
          // At most one try is ever waiting for its answer.
          expect(state.attempts - state.failures).toBeGreaterThanOrEqual(0);
          expect(state.attempts - state.failures).toBeLessThanOrEqual(1);
          if (state.suspendedAt !== null) expect(state.suspendedAt - state.failedAt!).toBeGreaterThanOrEqual(GRACE_DAYS * DAY);
        }
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

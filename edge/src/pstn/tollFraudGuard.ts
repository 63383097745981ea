/**
 * The toll-fraud guard, as pure functions (the model: signaling/callState.ts). Whether a number may
 * be called at all (`checkDestination`: closed countries, premium-rate and high-risk ranges), and
 * whether one more call fits the tenant's limits right now (`guard`: concurrent calls for the
 * tenant and each person, new calls per second and per minute). The tenant's PstnGuard object
 * keeps the state and carries out the effects (alerts to the admins).
 *
 * A refusal has a stable reason (shown in the UI and kept in the call record) and the SIP status a
 * phone gets: 403 for what is not allowed, 486 when the person is at their own limit, 503 when
 * the tenant is.
 */
import type { PstnPolicy, PstnRefusal } from '@callstack/protocol';
import { authorize, type SpendStanding } from '../billing/authorize.ts';
import { isCostly, type Destination } from './destination.ts';

export interface Refused {
  ok: false;
  reason: PstnRefusal;
  message: string;
  sipStatus: 403 | 404 | 486 | 503;
}
export type Verdict = { ok: true } | Refused;
/** A call admitted, and the longest it may last: the policy's cap, or less when the money left buys less. */
export type Admission = { ok: true; maxSeconds: number } | Refused;

/** A call keeps its slot for at most its longest duration and this much setup; a lost end frees it then. */
export const SETUP_ALLOWANCE_MS = 2 * 60 * 1000;
const RATE_WINDOW_MS = 60 * 1000;
/** An admin hears about each limit at most once in this long. */
export const ALERT_INTERVAL_MS = 60 * 60 * 1000;

export interface GuardState {
  /**
   * Calls admitted and not ended yet, by call id, with what each reserved of the spend caps (the
   * cost of its longest duration; absent in state kept before billing).
   */
  active: Record<string, { userId: string; admittedAt: number; expiresAt: number; reservedMicros?: number }>;
  /** Admissions of the last minute, oldest first (the rate limits). */
  recent: { userId: string; at: number }[];
  /** When each limit last alerted the admins. */
  alertedAt: Partial<Record<PstnRefusal, number>>;
}

export const EMPTY_GUARD: GuardState = { active: {}, recent: [], alertedAt: {} };

/** What billing's `authorize` needs of a billable call: the tenant's standing, and whether an admin opened the prefix. */
export interface SpendCheck {
  standing: SpendStanding;
  opened: boolean;
}

export type GuardEvent =
  | { kind: 'admit'; callId: string; userId: string; policy: PstnPolicy; spend?: SpendCheck }
  /**
   * A carrier's call to one of the tenant's numbers, for `userId`: it takes a slot of the tenant's
   * concurrent calls (trunk channels cost the same either way), but the rates and the per-person
   * limits are about who dials, so they do not apply. Refused as busy (486), which carriers do not
   * fail over on.
   */
  | { kind: 'admit-inbound'; callId: string; userId: string; policy: PstnPolicy; spend?: SpendCheck }
  /** The call ended (its record is written): its slot is free. */
  | { kind: 'release'; callId: string };

export type GuardEffect = { kind: 'alert'; reason: PstnRefusal; userId: string; message: string };

export interface GuardTransition {
  state: GuardState;
  effects: GuardEffect[];
  verdict: Admission;
}

function refused(reason: PstnRefusal, sipStatus: Refused['sipStatus'], message: string): Refused {
  return { ok: false, reason, sipStatus, message };
}

/** Whether `destination` may be called under `policy` at all (no state: the same answer every time). */
export function checkDestination(policy: PstnPolicy, destination: Destination): Verdict {
  const opened = isOpened(policy, destination);
  if (isCostly(destination) && !opened) {
    return refused('premium_blocked', 403, `${destination.e164} is a premium-rate or high-risk number; an admin can open its prefix`);
  }
  const country = destination.country;
  if (country !== null && country !== policy.defaultCountry && !policy.internationalCountries.includes(country) && !opened) {
    return refused('international_closed', 403, `calls to ${country} are not open for your organisation; an admin can open them`);
  }
  return { ok: true };
}

/** Whether an admin opened the destination's prefix on purpose (it passes the blocks of ranges and prices). */
export function isOpened(policy: PstnPolicy, destination: Pick<Destination, 'e164'>): boolean {
  return policy.allowedPrefixes.some((prefix) => destination.e164.startsWith(prefix));
}

/** One more call, or one fewer: the limits as they stand at `now`. */
export function guard(previous: GuardState, event: GuardEvent, now: number): GuardTransition {
  const state = prune(previous, now);
  switch (event.kind) {
    case 'release': {
      const released = { ok: true, maxSeconds: 0 } as const;
      if (!(event.callId in state.active)) return { state, effects: [], verdict: released };
      const { [event.callId]: _released, ...active } = state.active;
      return { state: { ...state, active }, effects: [], verdict: released };
    }
    case 'admit':
    case 'admit-inbound': {
      // A gateway asking again about the same call (a retry) gets the same yes.
      const admitted = state.active[event.callId];
      if (admitted)
        return { state, effects: [], verdict: { ok: true, maxSeconds: Math.round((admitted.expiresAt - SETUP_ALLOWANCE_MS - admitted.admittedAt) / 1000) } };
      const verdict = event.kind === 'admit' ? admission(state, event.userId, event.policy, now) : inboundAdmission(state, event.policy);
      if (!verdict.ok) return alerting(state, event.userId, verdict, now);
      const money = event.spend
        ? spendAdmission(state, event.spend, event.policy)
        : { ok: true as const, maxSeconds: event.policy.maxCallDurationSeconds, reserveMicros: 0 };
      if (!money.ok) return money.reason === 'spend_cap' ? alerting(state, event.userId, money, now) : { state, effects: [], verdict: money };
      const expiresAt = now + money.maxSeconds * 1000 + SETUP_ALLOWANCE_MS;
      return {
        state: {
          ...state,
          active: { ...state.active, [event.callId]: { userId: event.userId, admittedAt: now, expiresAt, reservedMicros: money.reserveMicros } },
          recent: event.kind === 'admit' ? [...state.recent, { userId: event.userId, at: now }] : state.recent,
        },
        effects: [],
        verdict: { ok: true, maxSeconds: money.maxSeconds },
      };
    }
    default:
      return event satisfies never;
  }
}

function admission(state: GuardState, userId: string, policy: PstnPolicy, now: number): Verdict {
  const active = Object.values(state.active);
  if (active.length >= policy.maxConcurrentCalls) {
    return refused('concurrency_limit', 503, `your organisation has ${active.length} outside calls at once, its limit`);
  }
  const own = active.filter((call) => call.userId === userId).length;
  if (own >= policy.maxConcurrentCallsPerUser) {
    return refused('concurrency_limit', 486, `you have ${own} outside ${own === 1 ? 'call' : 'calls'} already, your limit`);
  }
  const lastSecond = state.recent.filter((call) => call.at > now - 1000).length;
  if (lastSecond >= policy.maxCallsPerSecond) {
    return refused('rate_limit', 503, 'too many outside calls started in the last second; try again in a moment');
  }
  const ownLastMinute = state.recent.filter((call) => call.userId === userId).length;
  if (ownLastMinute >= policy.maxCallsPerMinutePerUser) {
    return refused('rate_limit', 503, `you started ${ownLastMinute} outside calls in the last minute, your limit`);
  }
  return { ok: true };
}

/** Billing's `authorize` against the caps, less what the calls now running have reserved. */
function spendAdmission(state: GuardState, spend: SpendCheck, policy: PstnPolicy): Refused | { ok: true; maxSeconds: number; reserveMicros: number } {
  const reservedMicros = Object.values(state.active).reduce((sum, call) => sum + (call.reservedMicros ?? 0), 0);
  const answer = authorize(spend.standing, { reservedMicros, opened: spend.opened, maxSeconds: policy.maxCallDurationSeconds });
  return answer.allowed ? { ok: true, maxSeconds: answer.maxSeconds, reserveMicros: answer.reserveMicros } : refused(answer.reason, 403, answer.message);
}

function inboundAdmission(state: GuardState, policy: PstnPolicy): Verdict {
  const active = Object.keys(state.active).length;
  return active >= policy.maxConcurrentCalls
    ? refused('concurrency_limit', 486, `your organisation has ${active} outside calls at once, its limit: a caller got busy`)
    : { ok: true };
}

/** A refusal by a limit: the admins hear of it, once an hour per limit. */
function alerting(state: GuardState, userId: string, verdict: Refused, now: number): GuardTransition {
  const last = state.alertedAt[verdict.reason];
  if (last !== undefined && now - last < ALERT_INTERVAL_MS) return { state, effects: [], verdict };
  return {
    state: { ...state, alertedAt: { ...state.alertedAt, [verdict.reason]: now } },
    effects: [{ kind: 'alert', reason: verdict.reason, userId, message: verdict.message }],
    verdict,
  };
}

/** Drops calls past their longest life (an end that never came) and admissions older than the rate window. */
function prune(state: GuardState, now: number): GuardState {
  const expired = Object.entries(state.active).filter(([, call]) => call.expiresAt <= now);
  const firstRecent = state.recent.findIndex((call) => call.at > now - RATE_WINDOW_MS);
  const recent = firstRecent === -1 ? [] : firstRecent === 0 ? state.recent : state.recent.slice(firstRecent);
  if (expired.length === 0 && recent === state.recent) return state;
  const active = Object.fromEntries(Object.entries(state.active).filter(([, call]) => call.expiresAt > now));
  return { ...state, active, recent };
}

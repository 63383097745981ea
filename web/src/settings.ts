/** Per-browser preferences kept in localStorage (the e2e tests set these keys directly). */
const ICE_POLICY_KEY = 'callstack.iceTransportPolicy';
/** Milliseconds without input before presence turns idle; tests shorten it. */
const IDLE_AFTER_KEY = 'callstack.idleAfterMs';
const DEFAULT_IDLE_AFTER_MS = 5 * 60_000;

export function iceTransportPolicy(): RTCIceTransportPolicy {
  return localStorage.getItem(ICE_POLICY_KEY) === 'relay' ? 'relay' : 'all';
}

export function setIceTransportPolicy(policy: RTCIceTransportPolicy): void {
  localStorage.setItem(ICE_POLICY_KEY, policy);
}

export function idleAfterMs(): number {
  const configured = Number(localStorage.getItem(IDLE_AFTER_KEY));
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_IDLE_AFTER_MS;
}

/** Per-browser preferences kept in localStorage (the e2e tests set these keys directly). */
const ICE_POLICY_KEY = 'callstack.iceTransportPolicy';

export function iceTransportPolicy(): RTCIceTransportPolicy {
  return localStorage.getItem(ICE_POLICY_KEY) === 'relay' ? 'relay' : 'all';
}

export function setIceTransportPolicy(policy: RTCIceTransportPolicy): void {
  localStorage.setItem(ICE_POLICY_KEY, policy);
}

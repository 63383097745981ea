/**
 * How an INVITE to a carrier trunk is written, and when the next trunk is tried: shared by a
 * phone's call to the outside (TrunkCall) and a number dialled in the browser (DialledCall).
 */
import type { PresentedCallerId, TrunkAttempt } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import { displayName } from './WebCall.ts';

/** A trunk that sends no provisional response in this long is passed over for the next. */
const TRUNK_SETUP_TIMEOUT_MS = 4_000;

/** The wait for a trunk's first provisional response: `cancel` runs when it runs out. */
export interface SetupTimer {
  /** Whether it ran out (the INVITE was cancelled for it). */
  readonly timedOut: boolean;
  /** A provisional response, a final one or a failure came: no more waiting. */
  stop(): void;
}

export function startSetupTimer(cancel: () => void): SetupTimer {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    cancel();
  }, TRUNK_SETUP_TIMEOUT_MS);
  return {
    get timedOut() {
      return timedOut;
    },
    stop: () => clearTimeout(timer),
  };
}

/**
 * The request URI and options of the INVITE: the number and caller ID in the carrier's format,
 * who the call is from as the carrier may present it (RFC 3325 P-Asserted-Identity), hidden when
 * withheld (RFC 3323 Privacy), and digest credentials for a registering trunk's challenge.
 */
export function carrierInvite(trunk: TrunkAttempt, callerId: PresentedCallerId): { uri: string; options: Srf.CreateUACOptions } {
  const headers: Record<string, string> = {};
  if (trunk.callerIdNumber) headers['P-Asserted-Identity'] = `<sip:${trunk.callerIdNumber}@${trunk.host}>`;
  if (callerId.withheld) headers['Privacy'] = 'id';
  return {
    uri: `sip:${trunk.dial}@${trunk.host}:${trunk.port};transport=${trunk.transport}`,
    options: {
      headers,
      ...(trunk.credentials ? { auth: { username: trunk.credentials.username, password: trunk.credentials.password } } : {}),
      callingNumber: callerId.withheld || !trunk.callerIdNumber ? 'anonymous' : trunk.callerIdNumber,
      callingName: callerId.withheld ? 'Anonymous' : displayName(callerId.name),
    } as Srf.CreateUACOptions,
  };
}

/** The carrier or the trunk failed (5xx, 408, no answer in time): the next trunk may take the call. Anything else is the callee's answer. */
export function failsOver(status: number, timedOut: boolean): boolean {
  return timedOut || status === 408 || status >= 500;
}

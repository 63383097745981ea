/**
 * The calling policy a tenant has until an admin saves its own: domestic calls only (in the
 * United States until the admin says which country the organisation is in), a few calls at once,
 * and a four-hour cap. Tight on purpose: a new tenant's stolen password buys little.
 */
import type { E164, PstnPolicy } from '@callstack/protocol';
import type { Db } from '../db/client.ts';
import { callerIdOf, findPstnPolicy } from '../db/pstn.ts';

export const DEFAULT_PSTN_POLICY: PstnPolicy = {
  defaultCountry: 'US',
  internationalCountries: [],
  allowedPrefixes: [],
  maxConcurrentCalls: 10,
  maxConcurrentCallsPerUser: 2,
  maxCallsPerSecond: 1,
  maxCallsPerMinutePerUser: 10,
  maxCallDurationSeconds: 4 * 60 * 60,
  mainNumber: null,
};

export async function pstnPolicyOf(db: Db, tenantId: string): Promise<PstnPolicy> {
  return (await findPstnPolicy(db, tenantId)) ?? DEFAULT_PSTN_POLICY;
}

/** The tenant's policy, and the number a person's calls out present: their own, else the main number; withheld at their choice. */
export async function callerNumberOf(db: Db, tenantId: string, userId: string): Promise<{ policy: PstnPolicy; number: E164 | null; withheld: boolean }> {
  const [own, policy] = await Promise.all([callerIdOf(db, tenantId, userId), pstnPolicyOf(db, tenantId)]);
  return { policy, number: own.ownNumber ?? policy.mainNumber, withheld: own.withheld };
}

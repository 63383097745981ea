/**
 * The admin console's numbers, ring groups and calling policy (protocol/src/pstn.ts). A number is
 * typed as the carrier gives it and kept in E.164; it may ring only a user or ring group of this
 * organisation (a group's members are its active people), or forward to another number; the main
 * number (everyone's caller ID without one of their own) must be one of the organisation's numbers,
 * so nobody can present somebody else's. Every change is in the audit log.
 */
import {
  ErrorCode,
  type AddPhoneNumberRequest,
  type NumberRoute,
  type PhoneNumberList,
  type PhoneNumberView,
  type PstnCallRecordList,
  type PstnPolicy,
  type UpdatePhoneNumberRequest,
  type CallerIdView,
  type CreateRingGroupRequest,
  type RingGroupList,
  type RingGroupView,
  type UpdateRingGroupRequest,
  type UpdateCallerIdRequest,
} from '@callstack/protocol';
import { clientIp, signedInUser } from '../auth/authenticate.ts';
import type { Principal } from '../auth/tokens.ts';
import { recordAudit } from '../db/audit.ts';
import { withDb, withTransaction, type Db } from '../db/client.ts';
import {
  addPhoneNumber,
  deletePhoneNumber,
  findNumberOwner,
  findPhoneNumber,
  listPhoneNumbers,
  listPstnRecords,
  savePstnPolicy,
  setCallerIdWithheld,
  updatePhoneNumber,
} from '../db/pstn.ts';
import { activeUserIds, createRingGroup, deleteRingGroup, findRingGroup, listRingGroups, updateRingGroup } from '../db/ringGroups.ts';
import { findActiveUser } from '../db/users.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';
import { parseDestination } from './destination.ts';
import { callerNumberOf, pstnPolicyOf } from './policy.ts';

/** The number my calls to the outside show, and whether I withhold it. */
export const callerIdGet: Handler<'bearer'> = async ({ env, principal }) => {
  const { tenantId, userId } = signedInUser(principal);
  return json(await withDb(env, (db) => callerIdView(db, tenantId, userId)));
};

export const callerIdPut: Handler<'bearer', UpdateCallerIdRequest> = async ({ env, principal, body }) => {
  const { tenantId, userId } = signedInUser(principal);
  return json(
    await withDb(env, async (db) => {
      await setCallerIdWithheld(db, tenantId, userId, body.withheld);
      return callerIdView(db, tenantId, userId);
    }),
  );
};

async function callerIdView(db: Db, tenantId: string, userId: string): Promise<CallerIdView> {
  const { number, withheld } = await callerNumberOf(db, tenantId, userId);
  return { number, withheld };
}

export const pstnPolicyGet: Handler<'bearer'> = async ({ env, principal }) => {
  return json((await withDb(env, (db) => pstnPolicyOf(db, principal.tenantId))) satisfies PstnPolicy);
};

export const pstnPolicyPut: Handler<'bearer', PstnPolicy> = async ({ env, principal, body, request }) => {
  const policy: PstnPolicy = {
    ...body,
    // Opening the organisation's own country means nothing; duplicates neither.
    internationalCountries: [...new Set(body.internationalCountries)].filter((country) => country !== body.defaultCountry).sort(),
    allowedPrefixes: [...new Set(body.allowedPrefixes)].sort(),
  };
  await withTransaction(env, async (db) => {
    if (policy.mainNumber && !(await findPhoneNumber(db, principal.tenantId, policy.mainNumber))) {
      throw new ApiError(ErrorCode.badRequest, 'mainNumber: must be one of your organisation’s numbers');
    }
    await savePstnPolicy(db, principal.tenantId, policy);
    await audit(db, request, principal, 'pstn.policy_changed', 'tenant', principal.tenantId, { policy });
  });
  return json(policy satisfies PstnPolicy);
};

export const numbersList: Handler<'bearer'> = async ({ env, principal }) => {
  return json({ numbers: await withDb(env, (db) => listPhoneNumbers(db, principal.tenantId)) } satisfies PhoneNumberList);
};

export const numbersAdd: Handler<'bearer', AddPhoneNumberRequest> = async ({ env, principal, body, request }) => {
  const created = await withTransaction(env, async (db) => {
    const policy = await pstnPolicyOf(db, principal.tenantId);
    const parsed = parseDestination(body.number, policy.defaultCountry);
    if (!parsed) throw new ApiError(ErrorCode.badRequest, `number: not a phone number (numbers without + are read in ${policy.defaultCountry})`);
    await checkRoute(db, principal.tenantId, body.route, parsed.e164);
    const number = await addPhoneNumber(db, principal.tenantId, parsed.e164, body.label, body.route);
    // Another organisation's number answers the same as one of ours: nothing is learnt about theirs.
    if (!number) throw new ApiError(ErrorCode.conflict, `${parsed.e164} is already in use on this platform`);
    await audit(db, request, principal, 'pstn.number_added', 'number', number.number, { route: number.route });
    return number;
  });
  return json(created satisfies PhoneNumberView, 201);
};

export const numbersUpdate: Handler<'bearer', UpdatePhoneNumberRequest> = async ({ env, principal, body, params, request }) => {
  const number = e164Param(params.number!);
  const updated = await withTransaction(env, async (db) => {
    if (body.route) await checkRoute(db, principal.tenantId, body.route, number);
    const changed = await updatePhoneNumber(db, principal.tenantId, number, body);
    if (!changed) throw new ApiError(ErrorCode.notFound, 'no such number in your organisation');
    await audit(db, request, principal, 'pstn.number_changed', 'number', number, { ...body });
    return changed;
  });
  return json(updated satisfies PhoneNumberView);
};

export const numbersDelete: Handler<'bearer'> = async ({ env, principal, params, request }) => {
  const number = e164Param(params.number!);
  await withTransaction(env, async (db) => {
    const policy = await pstnPolicyOf(db, principal.tenantId);
    if (policy.mainNumber === number) throw new ApiError(ErrorCode.conflict, 'this is the main number: choose another in the calling policy first');
    if (!(await deletePhoneNumber(db, principal.tenantId, number))) throw new ApiError(ErrorCode.notFound, 'no such number in your organisation');
    await audit(db, request, principal, 'pstn.number_removed', 'number', number, {});
  });
  return new Response(null, { status: 204 });
};

export const pstnCallsList: Handler<'bearer', undefined, { limit: number }> = async ({ env, principal, query }) => {
  return json({ calls: await withDb(env, (db) => listPstnRecords(db, principal.tenantId, query.limit)) } satisfies PstnCallRecordList);
};

/** A number rings someone of this organisation, or another number (never itself). */
async function checkRoute(db: Db, tenantId: string, route: NumberRoute, number: string): Promise<void> {
  if (route.kind === 'user' && !(await findActiveUser(db, tenantId, route.userId))) {
    throw new ApiError(ErrorCode.notFound, 'route.userId: no such user in your organisation');
  }
  if (route.kind === 'number' && route.number === number) throw new ApiError(ErrorCode.badRequest, 'route.number: a number cannot forward to itself');
  // Through the carrier and back it could loop; on the platform it rings its own route anyway.
  if (route.kind === 'number' && (await findNumberOwner(db, route.number))) {
    throw new ApiError(ErrorCode.badRequest, 'route.number: a number on this platform: route to its person or ring group instead');
  }
  if (route.kind === 'group' && !(await findRingGroup(db, tenantId, route.groupId))) {
    throw new ApiError(ErrorCode.notFound, 'route.groupId: no such ring group in your organisation');
  }
}

export const ringGroupsList: Handler<'bearer'> = async ({ env, principal }) =>
  json({ groups: await withDb(env, (db) => listRingGroups(db, principal.tenantId)) } satisfies RingGroupList);

export const ringGroupsAdd: Handler<'bearer', CreateRingGroupRequest> = async ({ env, principal, body, request }) => {
  const created = await withTransaction(env, async (db) => {
    await checkMembers(db, principal.tenantId, body.members);
    const group = await createRingGroup(db, principal.tenantId, body);
    await audit(db, request, principal, 'pstn.ring_group_added', 'ring_group', group.id, { ...body });
    return group;
  });
  return json(created satisfies RingGroupView, 201);
};

export const ringGroupsUpdate: Handler<'bearer', UpdateRingGroupRequest> = async ({ env, principal, body, params, request }) => {
  const updated = await withTransaction(env, async (db) => {
    if (body.members) await checkMembers(db, principal.tenantId, body.members);
    const group = await updateRingGroup(db, principal.tenantId, params.id!, body);
    if (!group) throw new ApiError(ErrorCode.notFound, NO_GROUP);
    await audit(db, request, principal, 'pstn.ring_group_changed', 'ring_group', group.id, { ...body });
    return group;
  });
  return json(updated satisfies RingGroupView);
};

export const ringGroupsDelete: Handler<'bearer'> = async ({ env, principal, params, request }) => {
  await withTransaction(env, async (db) => {
    const outcome = await deleteRingGroup(db, principal.tenantId, params.id!);
    if (outcome === 'not_found') throw new ApiError(ErrorCode.notFound, NO_GROUP);
    if (outcome === 'in_use') throw new ApiError(ErrorCode.conflict, 'a number rings this group: route it elsewhere first');
    await audit(db, request, principal, 'pstn.ring_group_removed', 'ring_group', params.id!, {});
  });
  return new Response(null, { status: 204 });
};

const NO_GROUP = 'no such ring group in your organisation';

/** Every member is an active person of this organisation (anyone else is `not_found`, the same for another's). */
async function checkMembers(db: Db, tenantId: string, members: string[]): Promise<void> {
  const active = await activeUserIds(db, tenantId, members);
  const unknown = members.find((member) => !active.has(member));
  if (unknown) throw new ApiError(ErrorCode.notFound, `members: no such user in your organisation (${unknown})`);
}

/** `:number` in a path, `+` written as is or as `%2B`. */
function e164Param(raw: string): string {
  let number: string;
  try {
    number = decodeURIComponent(raw).replace(/^ /, '+');
  } catch {
    number = raw;
  }
  if (!/^\+[1-9]\d{5,14}$/.test(number)) throw new ApiError(ErrorCode.notFound, 'no such number in your organisation');
  return number;
}

function audit(db: Db, request: Request, actor: Principal, action: string, targetType: string, targetId: string, details: Record<string, unknown>) {
  return recordAudit(db, {
    tenantId: actor.tenantId,
    actorType: actor.actorType,
    actorId: actor.userId,
    action,
    targetType,
    targetId,
    details,
    ip: clientIp(request),
  });
}

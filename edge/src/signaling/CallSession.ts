/**
 * One Durable Object per call, named `<tenantId>:<callId>`. It owns the call's state machine
 * (callState.ts), persists every transition before acting on it, and writes the CDR when the call
 * ends through a DurableWriter (kept in storage, retried with backoff until written). The alarm
 * serves the earliest of the ring timeout, the connection-loss grace period, the CDR retry and the
 * clean-up an hour after the end. It keeps nothing in memory that matters: an evicted session
 * wakes up from storage and carries on.
 *
 * A recorded call runs through a conference room (rooms/Room.ts) that this session opens on
 * accept, for the two parties only, recording by itself in the caller's name, and closes when the
 * call ends.
 *
 * Attended transfer spans three sessions: the consultation call permits the transferee to take it
 * over (`permitReplacement`), the transferred call ends naming it, and the transferee's new call
 * claims it (`claimReplacement`) to ring the target's device there; once that call is answered,
 * the consultation call ends (`replaced`).
 */
import {
  ErrorCode,
  rateReport,
  SIP_DEVICE_PREFIX,
  lineDevice,
  sipStatusForEndReason,
  type CallMedia,
  type Party,
  type QualityReport,
  type QualityUpdate,
  type PstnRouteAnswer,
  type ServerMessage,
  type SipGatewayNode,
} from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { withDb } from '../db/client.ts';
import { insertCallRecord, type CallRecord } from '../db/callRecords.ts';
import { chargeEnded } from '../billing/charging.ts';
import { completePstnRecord, type PstnEnd } from '../db/pstn.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { addReport, summarise, type QualityAggregate } from '../quality/aggregate.ts';
import {
  applyAction,
  calleeUnreachable,
  claimReplacement,
  otherParty,
  permitReplacement,
  replaced,
  ringing,
  deviceBack,
  deviceLost,
  durationOf,
  graceExpired,
  lineOf,
  maxDurationReached,
  mayReportQuality,
  memberUnreachable,
  partyOf,
  ringingMembers,
  nextDeadline,
  ringTimeout,
  transfer,
  type CallAction,
  type Transition,
} from './callState.ts';
import { failure, type Actor, type Outcome } from '../objects/actor.ts';
import { setAlarmToEarliest } from '../objects/deadlines.ts';
import { DurableWriter } from '../objects/DurableWriter.ts';
import { isHubEffect, type CallState, type DeviceSelector, type Effect, type HubEffect, type Hunt, type RingOutcome } from './types.ts';
import { callSession, pstnGuard, roomObject, userHub } from '../objects/stubs.ts';
import { deliverToGateway } from '../sip/gatewayClient.ts';
import { depositFor, voicemailFollows } from '../voicemail/handOff.ts';

/** How long an ended call keeps answering `invalid_state` before its storage is dropped. */
const RETAIN_ENDED_MS = 60 * 60 * 1000;

export interface CallStart {
  callId: string;
  tenantId: string;
  /** `via`: the caller is a line (an outside party) that gateway carries. */
  caller: Party & { deviceId: string; via?: SipGatewayNode };
  /** `via`: the callee is a line, a number dialled: `pstn` is the edge's decision the gateway places it by. */
  callee: Party & { via?: SipGatewayNode };
  pstn?: PstnRouteAnswer;
  /** A call with the outside is cut after this long from the answer (the tenant's calling policy). */
  maxDurationSeconds?: number;
  media: CallMedia;
  record: boolean;
  /** Attended transfer: the callee's call this one takes over (only its device rings). */
  replaces?: string;
  /** A ring group: `callee` is its first member, these the others in order. */
  ringGroup?: { strategy: 'simultaneous' | 'in-order'; others: Party[]; memberTimeoutSeconds: number };
}

const STATE_KEY = 'call';
/** The CDR waiting to be written (the DurableWriter's key). */
const CDR_KEY = 'cdr.pending';
/**
 * Where sessions that ended before CDRs went through DurableWriter keep theirs (`written: false`
 * until written); the alarm hands such a CDR to the writer. Only sessions ended before that deploy
 * have it.
 */
const LEGACY_CDR_KEY = 'cdr';
/** Each party's quality aggregate, by user id. */
const QUALITY_KEY = 'quality';
type Qualities = Record<string, QualityAggregate>;

export class CallSession extends DurableObject<Env> {
  /**
   * Creates the call and rings the callee. Fails with `conflict` when the call id is taken.
   * The caller's hub has already marked its user as in this call.
   */
  async start(init: CallStart): Promise<Outcome> {
    if (await this.load()) return failure(ErrorCode.conflict, 'call id already used');
    let only: string | undefined;
    if (init.replaces) {
      const claim = await callSession(this.env, init.tenantId, init.replaces).claimReplacement(
        { tenantId: init.tenantId, userId: init.caller.userId },
        init.callee.userId,
      );
      if (!claim.ok) return claim;
      only = claim.deviceId;
    }
    const now = Date.now();
    const state: CallState = {
      callId: init.callId,
      tenantId: init.tenantId,
      caller: init.caller,
      callee: { ...init.callee, deviceId: null },
      media: init.media,
      ...(init.record ? { roomId: crypto.randomUUID() } : {}),
      status: 'ringing',
      createdAt: now,
      answeredAt: null,
      endedAt: null,
      endReason: null,
      ringDeadline: now + (init.ringGroup ? init.ringGroup.memberTimeoutSeconds * 1000 : config(this.env).ringTimeoutMs),
      lostDevices: {},
      ...(init.ringGroup ? { hunt: huntOf(init.ringGroup) } : {}),
      ...(init.maxDurationSeconds ? { maxDurationMs: init.maxDurationSeconds * 1000 } : {}),
      ...(init.replaces ? { replaces: init.replaces } : {}),
    };
    await this.save(state);
    log.info('call.created', logIds(state));

    const callerParty = partyOf(state.caller);
    const replacing = init.replaces && only ? { callId: init.replaces, deviceId: only } : undefined;
    const incoming = {
      type: 'call.incoming',
      callId: init.callId,
      from: callerParty,
      media: init.media,
      record: init.record,
      ...(replacing ? { replaces: replacing.callId } : {}),
    } as const;
    if (state.hunt) return this.ringMembers(state, incoming);
    const line = lineOf(state, state.callee.userId);
    const outcome: RingOutcome = line
      ? (await deliverToGateway(this.env, line.via, {
          device: lineDevice(state.tenantId, line.userId, line.displayName),
          message: incoming,
          ...(init.pstn ? { pstn: init.pstn } : {}),
        }))
        ? 'ringing'
        : 'unavailable'
      : await userHub(this.env, init.tenantId, init.callee.userId).ring(incoming, init.tenantId, replacing);
    // The callee may already have answered while ring() was under way: act on the current state.
    const current = await this.load();
    if (!current || current.status !== 'ringing') return { ok: true };
    if (outcome === 'ringing') {
      await this.commit(current, ringing(current, Date.now()));
    } else {
      await this.commit(current, calleeUnreachable(current, outcome, Date.now()));
    }
    return { ok: true };
  }

  /** A ring group's first ring: every member at once, or the first in order; those nobody could ring drop out. */
  private async ringMembers(state: CallState, incoming: Extract<ServerMessage, { type: 'call.incoming' }>): Promise<Outcome> {
    const members = ringingMembers(state);
    const outcomes = await Promise.all(members.map((member) => userHub(this.env, state.tenantId, member.userId).ring(incoming, state.tenantId)));
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome === 'ringing') continue;
      const current = await this.load();
      if (current) await this.commit(current, memberUnreachable(current, members[index]!.userId, outcome, Date.now()));
    }
    const current = await this.load();
    if (current?.status === 'ringing') await this.commit(current, ringing(current, Date.now()));
    return { ok: true };
  }

  /** `via`: the actor is a line, and this gateway carries it now (the one that took the call names itself). */
  async act(actor: Actor, action: CallAction, via?: SipGatewayNode): Promise<Outcome> {
    const loaded = await this.load();
    if (!loaded) return failure(ErrorCode.notFound, 'no such call');
    const state = via && lineOf(loaded, actor.userId) ? withLineVia(loaded, actor.userId, via) : loaded;
    return this.commit(loaded, applyAction(state, actor, action, Date.now()));
  }

  /** Blind, or attended when `replaces` names the actor's consultation call with `target`. */
  async transfer(actor: Actor, target: Party, replaces?: string): Promise<Outcome> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such call');
    const transition = transfer(state, actor, target, Date.now(), replaces);
    if (!transition.ok || !replaces) return this.commit(state, transition);
    const transferee = otherParty(state, actor.userId);
    const permitted = await callSession(this.env, state.tenantId, replaces).permitReplacement(actor, transferee.userId, target.userId);
    if (!permitted.ok) return permitted;
    // The transfer is decided on the state it was checked against: it may have ended meanwhile.
    const current = await this.load();
    return current ? this.commit(current, transfer(current, actor, target, Date.now(), replaces)) : failure(ErrorCode.notFound, 'no such call');
  }

  /** Attended transfer, on the consultation call: see callState's `permitReplacement`. */
  async permitReplacement(actor: Actor, transfereeId: string, targetId: string): Promise<Outcome> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such call to replace');
    return this.commit(state, permitReplacement(state, actor, transfereeId, targetId, Date.now()));
  }

  /** The transferee's new call asks to take this call over; gives the target's device to ring. */
  async claimReplacement(claimant: { tenantId: string; userId: string }, calleeId: string): Promise<Outcome<{ deviceId: string }>> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such call to replace');
    return claimReplacement(state, claimant, calleeId, Date.now());
  }

  /** The call that took this one over was answered. */
  async replaced(): Promise<void> {
    const state = await this.load();
    if (state) await this.commit(state, replaced(state, Date.now()));
  }

  async deviceLost(actor: Actor): Promise<void> {
    const state = await this.load();
    if (state) await this.commit(state, deviceLost(state, actor, Date.now()));
  }

  async deviceBack(actor: Actor): Promise<void> {
    const state = await this.load();
    if (state) await this.commit(state, deviceBack(state, actor));
  }

  /** Rates a party's stats summary and folds it into their aggregate (the CDR's quality row). */
  async reportQuality(actor: Actor, report: QualityReport): Promise<Outcome<{ reply: QualityUpdate }>> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such call');
    const allowed = mayReportQuality(state, actor);
    if (!allowed.ok) return allowed;
    const rated = rateReport(report);
    const qualities = await this.qualities();
    const added = addReport(qualities[actor.userId], report, rated, Date.now());
    if (!added.ok) return added;
    await this.ctx.storage.put<Qualities>(QUALITY_KEY, { ...qualities, [actor.userId]: added.aggregate });
    return { ok: true, reply: rated };
  }

  /** Whether the call still occupies its participants (hubs use this to drop stale entries). */
  async isLive(): Promise<boolean> {
    const state = await this.load();
    return state !== undefined && state.status !== 'ended';
  }

  override async alarm(): Promise<void> {
    const state = await this.load();
    if (!state) return;
    const now = Date.now();
    if (state.status !== 'ended') {
      // A call that the ring timeout ended keeps that transition (and its effects).
      // The first deadline that changes the call (each check leaves a call not yet due as it is).
      const checks = [ringTimeout, graceExpired, maxDurationReached].map((check) => check(state, now));
      await this.commit(state, checks.find((transition) => !transition.ok || transition.state !== state) ?? checks[0]!);
    } else {
      const cdrs = this.cdrs(state);
      if (!(await this.adoptLegacyCdr(state))) await cdrs.flush(now);
      const cleanUp = cleanUpAt(state);
      if (cleanUp !== null && cleanUp <= now && !(await cdrs.hasPending())) {
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        return;
      }
    }
    await this.scheduleAlarm((await this.load()) ?? state);
  }

  /** Persists the transition's state (when it changed), then carries out its effects. */
  private async commit(previous: CallState, transition: Transition): Promise<Outcome> {
    if (!transition.ok) return transition;
    const { state, effects } = transition;
    if (state !== previous) await this.save(state);
    const ended = state.status === 'ended' && previous.status !== 'ended';
    // Kept with the ended state, before effects that may outlive this object: a CDR is never lost.
    if (ended) await this.cdrs(state).keep(outcomeRecord(state, await this.qualities()));
    await this.perform(state, effects);
    // A call with a line held a slot in the tenant's limits (the gateway frees a phone's call out).
    if (ended && (state.caller.via || state.callee.via)) await pstnGuard(this.env, state.tenantId).release(state.tenantId, state.callId);
    if (ended) {
      log.info('call.ended', { ...logIds(state), reason: state.endReason, durationMs: durationOf(state) });
      await this.cdrs(state).flush();
      await this.scheduleAlarm(state);
    }
    return { ok: true };
  }

  /**
   * Carries out effects; a hub or room that fails is logged, never allowed to undo the transition.
   * A room is opened before the rest, as the other effects tell the parties to join it. What is for
   * one user's hub goes in one request (deliveries and busy marks together).
   */
  private async perform(state: CallState, effects: Effect[]): Promise<void> {
    for (const effect of effects) if (effect.kind === 'room.open') await this.performOne(state, effect);
    const byHub = new Map<string, HubEffect[]>();
    const rest: Effect[] = [];
    for (const effect of effects) {
      if (effect.kind === 'room.open') continue;
      if (isHubEffect(effect) && !lineOf(state, effect.userId)) byHub.set(effect.userId, [...(byHub.get(effect.userId) ?? []), effect]);
      else rest.push(effect);
    }
    await Promise.all([...[...byHub].map(([userId, forHub]) => this.toHub(state, userId, forHub)), ...rest.map((effect) => this.performOne(state, effect))]);
  }

  private async toHub(state: CallState, userId: string, effects: HubEffect[]): Promise<void> {
    try {
      await userHub(this.env, state.tenantId, userId).apply(state.callId, state.tenantId, effects);
    } catch (error) {
      log.warn('call.effect_failed', { ...logIds(state), effect: effects.map((effect) => effect.kind).join(','), userId }, error);
    }
  }

  /** Effects other than a user's hub's (those go through toHub). */
  private async performOne(state: CallState, effect: Effect): Promise<void> {
    try {
      switch (effect.kind) {
        case 'deliver': {
          // A line is one device: it takes what is for all, or for it, and nothing for its user's other devices.
          const line = lineOf(state, effect.userId);
          if (!line || !selects(effect.devices, line.userId)) return;
          // An outside caller nobody answered is not hung up on: they leave a message.
          const voicemail = effect.message.type === 'call.ended' && voicemailFollows(state) ? { voicemail: depositFor(state) } : {};
          await deliverToGateway(this.env, line.via, {
            device: lineDevice(state.tenantId, line.userId, line.displayName),
            message: effect.message,
            ...voicemail,
          });
          return;
        }
        // A line is in this call only: nothing to mark busy.
        case 'track':
        case 'untrack':
          return;
        case 'room.open': {
          const { caller, callee } = state;
          const opened = await roomObject(this.env, state.tenantId, effect.roomId).create(
            state.tenantId,
            effect.roomId,
            { tenantId: state.tenantId, userId: caller.userId, deviceId: caller.deviceId, displayName: caller.displayName },
            { callId: state.callId, members: [caller.userId, callee.userId], autoRecord: true },
          );
          if (!opened.ok) log.warn('call.room_open_failed', { ...logIds(state), roomId: effect.roomId, code: opened.code });
          return;
        }
        case 'room.close':
          await roomObject(this.env, state.tenantId, effect.roomId).close();
          return;
        case 'replace':
          await callSession(this.env, state.tenantId, effect.callId).replaced();
          return;
        case 'ring': {
          const incoming = { type: 'call.incoming', callId: state.callId, from: partyOf(state.caller), media: state.media, record: false } as const;
          const outcome = await userHub(this.env, state.tenantId, effect.userId).ring(incoming, state.tenantId);
          const current = outcome === 'ringing' ? null : await this.load();
          if (current && outcome !== 'ringing') await this.commit(current, memberUnreachable(current, effect.userId, outcome, Date.now()));
          return;
        }
        default:
          effect satisfies never;
      }
    } catch (error) {
      log.warn('call.effect_failed', { ...logIds(state), effect: effect.kind, userId: 'userId' in effect ? effect.userId : undefined }, error);
    }
  }

  /**
   * The earliest of: the ring timeout or a lost device's grace (while the call is up), the CDR's
   * next retry, and, once no CDR waits to be written, the clean-up an hour after the end.
   */
  private async scheduleAlarm(state: CallState): Promise<void> {
    const cdrs = this.cdrs(state);
    const cleanUp = state.status === 'ended' && !(await cdrs.hasPending()) ? cleanUpAt(state) : null;
    await setAlarmToEarliest(this.ctx.storage, [nextDeadline(state), await cdrs.dueAt(), cleanUp]);
  }

  /**
   * The call's CDR, kept in storage until written (the writer holds nothing in memory, so one per
   * use is the same writer). Each write is idempotent (`on conflict do nothing`, or a PSTN record's
   * progress set once), so a retry after a partial failure completes what is missing and changes
   * nothing else: no transaction, one round trip per statement.
   */
  private cdrs(state: CallState): DurableWriter<EndRecord> {
    return new DurableWriter<EndRecord>(this.ctx.storage, {
      key: CDR_KEY,
      idOf: (record) => record.callId,
      write: async (records) => {
        await withDb(this.env, async (db) => {
          for (const record of records) {
            if (isPstnEnd(record)) await completePstnRecord(db, record);
            else await insertCallRecord(db, record);
          }
        });
        await chargeEnded(
          this.env,
          records.filter(isPstnEnd).map((record) => record.callId),
        );
      },
      onFailure: (error, { attempts, nextAttemptAt }) => log.warn('cdr.write_failed', { ...logIds(state), attempts, nextAttemptAt }, error),
    });
  }

  /** Hands a CDR kept in the format before DurableWriter to the writer (which tries it at once): true when it did. */
  private async adoptLegacyCdr(state: CallState): Promise<boolean> {
    const legacy = await this.ctx.storage.get<{ written: boolean }>(LEGACY_CDR_KEY);
    if (!legacy) return false;
    if (!legacy.written) await this.cdrs(state).add(toCallRecord(state, await this.qualities()));
    await this.ctx.storage.delete(LEGACY_CDR_KEY);
    return !legacy.written;
  }

  /** An ended call's alarm is set once its CDR was tried (commit). */
  private async save(state: CallState): Promise<void> {
    await this.ctx.storage.put(STATE_KEY, state);
    if (state.status !== 'ended') await this.scheduleAlarm(state);
  }

  private load(): Promise<CallState | undefined> {
    return this.ctx.storage.get<CallState>(STATE_KEY);
  }

  private async qualities(): Promise<Qualities> {
    return (await this.ctx.storage.get<Qualities>(QUALITY_KEY)) ?? {};
  }
}

/** An ended call keeps answering `invalid_state` until then; its storage is dropped after, once its CDR is written. */
function cleanUpAt(state: CallState): number | null {
  return state.endedAt === null ? null : state.endedAt + RETAIN_ENDED_MS;
}

/**
 * What an ended call leaves in Postgres: its CDR, or, for a call with an outside party (a line,
 * which is nobody's account), the end of its PSTN record (pstn_call_records): that is its CDR.
 * Sessions that ended before lines existed keep plain CallRecords, hence no tag on those.
 */
type EndRecord = CallRecord | PstnEnd;

function isPstnEnd(record: EndRecord): record is PstnEnd {
  return 'kind' in record && record.kind === 'pstn';
}

function outcomeRecord(state: CallState, qualities: Qualities): EndRecord {
  if (!state.caller.via && !state.callee.via) return toCallRecord(state, qualities);
  const reason = state.endReason ?? 'failed';
  return {
    kind: 'pstn',
    callId: state.callId,
    tenantId: state.tenantId,
    ringingAt: state.ringingAt ?? null,
    answeredAt: state.answeredAt,
    endedAt: state.endedAt ?? Date.now(),
    finalStatus: state.answeredAt !== null ? 200 : (state.sipStatus ?? sipStatusForEndReason(reason)),
    hangupCause: reason,
    ...(state.answeredAt !== null && state.caller.via && !state.callee.via ? { answeredBy: state.callee.userId } : {}),
  };
}

function toCallRecord(state: CallState, qualities: Qualities): CallRecord {
  return {
    callId: state.callId,
    tenantId: state.tenantId,
    callerId: state.caller.userId,
    calleeId: state.callee.userId,
    createdAt: state.createdAt,
    answeredAt: state.answeredAt,
    endedAt: state.endedAt ?? Date.now(),
    endReason: state.endReason ?? 'failed',
    durationMs: durationOf(state),
    callerLeg: legOf(state.caller.deviceId) ?? 'web',
    calleeLeg: legOf(state.callee.deviceId),
    sipStatus: state.sipStatus ?? null,
    postDialDelayMs: state.ringingAt ? Math.max(0, state.ringingAt - state.createdAt) : null,
    quality: Object.entries(qualities).map(([userId, aggregate]) => ({ userId, summary: summarise(aggregate) })),
  };
}

/** A SIP account's device (the gateway's, protocol/src/sip.ts) or a browser's. */
function legOf(deviceId: string | null): 'web' | 'sip' | null {
  if (deviceId === null) return null;
  return deviceId.startsWith(SIP_DEVICE_PREFIX) ? 'sip' : 'web';
}

function selects(devices: DeviceSelector, deviceId: string): boolean {
  return devices === 'all' || ('only' in devices ? devices.only === deviceId : devices.except !== deviceId);
}

function huntOf({ strategy, others, memberTimeoutSeconds }: NonNullable<CallStart['ringGroup']>): Hunt {
  const memberTimeoutMs = memberTimeoutSeconds * 1000;
  return strategy === 'simultaneous'
    ? { strategy, alsoRinging: others, waiting: [], memberTimeoutMs }
    : { strategy, alsoRinging: [], waiting: others, memberTimeoutMs };
}

function withLineVia(state: CallState, lineId: string, via: SipGatewayNode): CallState {
  const side = state.caller.userId === lineId ? 'caller' : 'callee';
  return state[side].via?.nodeId === via.nodeId && state[side].via?.controlUrl === via.controlUrl ? state : { ...state, [side]: { ...state[side], via } };
}

function logIds(state: CallState) {
  return { tenantId: state.tenantId, callId: state.callId, callerId: state.caller.userId, calleeId: state.callee.userId };
}

/**
 * One Durable Object per call, named `<tenantId>:<callId>`. It owns the call's state machine
 * (callState.ts), persists every transition before acting on it, and uses the alarm for the
 * ring timeout, the connection-loss grace period, CDR retries and clean-up. It keeps nothing
 * in memory that matters: an evicted session wakes up from storage and carries on.
 *
 * A recorded call runs through a conference room (rooms/Room.ts) that this session opens on
 * accept, for the two parties only, recording by itself in the caller's name, and closes when the
 * call ends.
 */
import { ErrorCode, rateReport, type CallMedia, type Party, type QualityReport, type QualityUpdate } from '@callstack/protocol';
import { DurableObject } from 'cloudflare:workers';
import { withTransaction } from '../db/client.ts';
import { insertCallRecord, type CallRecord } from '../db/callRecords.ts';
import { config } from '../config.ts';
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { addReport, summarise, type QualityAggregate } from '../quality/aggregate.ts';
import { retryDelay } from '../retry.ts';
import {
  applyAction,
  calleeUnreachable,
  deviceBack,
  deviceLost,
  durationOf,
  graceExpired,
  mayReportQuality,
  nextDeadline,
  ringTimeout,
  type CallAction,
  type Transition,
} from './callState.ts';
import { failure, type Actor, type Outcome } from '../objects/actor.ts';
import type { CallState, Effect } from './types.ts';
import { roomObject, userHub } from '../objects/stubs.ts';

/** How long an ended call keeps answering `invalid_state` before its storage is dropped. */
const RETAIN_ENDED_MS = 60 * 60 * 1000;

export interface CallStart {
  callId: string;
  tenantId: string;
  caller: Party & { deviceId: string };
  callee: Party;
  media: CallMedia;
  record: boolean;
}

interface CdrProgress {
  attempts: number;
  nextAttemptAt: number | null;
  written: boolean;
}

const STATE_KEY = 'call';
const CDR_KEY = 'cdr';
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
      ringDeadline: now + config(this.env).ringTimeoutMs,
      lostDevices: {},
    };
    await this.save(state);
    log.info('call.created', logIds(state));

    const callerParty = { userId: init.caller.userId, displayName: init.caller.displayName };
    const outcome = await userHub(this.env, init.tenantId, init.callee.userId).ring(
      { type: 'call.incoming', callId: init.callId, from: callerParty, media: init.media, record: init.record },
      init.tenantId,
    );
    // The callee may already have answered while ring() was under way: act on the current state.
    const current = await this.load();
    if (!current || current.status !== 'ringing') return { ok: true };
    if (outcome === 'ringing') {
      await this.perform(current, [
        {
          kind: 'deliver',
          userId: init.caller.userId,
          devices: { only: init.caller.deviceId },
          message: { type: 'call.ringing', callId: init.callId, to: init.callee },
        },
      ]);
    } else {
      await this.commit(current, calleeUnreachable(current, outcome, Date.now()));
    }
    return { ok: true };
  }

  async act(actor: Actor, action: CallAction): Promise<Outcome> {
    const state = await this.load();
    if (!state) return failure(ErrorCode.notFound, 'no such call');
    return this.commit(state, applyAction(state, actor, action, Date.now()));
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
    const qualities = (await this.ctx.storage.get<Qualities>(QUALITY_KEY)) ?? {};
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
      const afterRing = ringTimeout(state, now);
      const transition = afterRing.ok && afterRing.state.status !== 'ended' ? graceExpired(state, now) : afterRing;
      await this.commit(state, transition);
      const current = await this.load();
      if (current && current.status !== 'ended') await this.scheduleAlarm(current);
      return;
    }
    const cdr = await this.ctx.storage.get<CdrProgress>(CDR_KEY);
    if (cdr && !cdr.written) {
      await this.writeCdr(state, cdr);
      return;
    }
    if (state.endedAt !== null && now >= state.endedAt + RETAIN_ENDED_MS) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    } else {
      await this.scheduleAlarm(state);
    }
  }

  /** Persists the transition's state (when it changed), then carries out its effects. */
  private async commit(previous: CallState, transition: Transition): Promise<Outcome> {
    if (!transition.ok) return transition;
    const { state, effects } = transition;
    if (state !== previous) await this.save(state);
    await this.perform(state, effects);
    if (state.status === 'ended' && previous.status !== 'ended') {
      log.info('call.ended', { ...logIds(state), reason: state.endReason, durationMs: durationOf(state) });
      await this.writeCdr(state, { attempts: 0, nextAttemptAt: null, written: false });
    }
    return { ok: true };
  }

  /**
   * Carries out effects; a hub or room that fails is logged, never allowed to undo the transition.
   * A room is opened before the rest, as the other effects tell the parties to join it.
   */
  private async perform(state: CallState, effects: Effect[]): Promise<void> {
    for (const effect of effects) if (effect.kind === 'room.open') await this.performOne(state, effect);
    await Promise.all(effects.filter((effect) => effect.kind !== 'room.open').map((effect) => this.performOne(state, effect)));
  }

  private async performOne(state: CallState, effect: Effect): Promise<void> {
    try {
      switch (effect.kind) {
        case 'deliver':
          await userHub(this.env, state.tenantId, effect.userId).deliver(effect.message, effect.devices);
          return;
        case 'track':
          await userHub(this.env, state.tenantId, effect.userId).track(state.callId, effect.status, state.tenantId);
          return;
        case 'untrack':
          await userHub(this.env, state.tenantId, effect.userId).untrack(state.callId);
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
        default:
          effect satisfies never;
      }
    } catch (error) {
      log.warn('call.effect_failed', { ...logIds(state), effect: effect.kind, userId: 'userId' in effect ? effect.userId : undefined }, error);
    }
  }

  /** Writes the CDR; on failure keeps it and retries from the alarm with backoff, so none is lost. */
  private async writeCdr(state: CallState, progress: CdrProgress): Promise<void> {
    const record = toCallRecord(state, (await this.ctx.storage.get<Qualities>(QUALITY_KEY)) ?? {});
    try {
      await withTransaction(this.env, (db) => insertCallRecord(db, record));
      await this.ctx.storage.put<CdrProgress>(CDR_KEY, { ...progress, written: true, nextAttemptAt: null });
    } catch (error) {
      const attempts = progress.attempts + 1;
      const nextAttemptAt = Date.now() + retryDelay(attempts);
      log.warn('cdr.write_failed', { ...logIds(state), attempts, nextAttemptAt }, error);
      await this.ctx.storage.put<CdrProgress>(CDR_KEY, { attempts, nextAttemptAt, written: false });
    }
    await this.scheduleAlarm(state);
  }

  private async scheduleAlarm(state: CallState): Promise<void> {
    let at = nextDeadline(state);
    if (state.status === 'ended' && state.endedAt !== null) {
      const cdr = await this.ctx.storage.get<CdrProgress>(CDR_KEY);
      at = cdr && !cdr.written && cdr.nextAttemptAt !== null ? cdr.nextAttemptAt : state.endedAt + RETAIN_ENDED_MS;
    }
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  private async save(state: CallState): Promise<void> {
    await this.ctx.storage.put(STATE_KEY, state);
    if (state.status !== 'ended') await this.scheduleAlarm(state);
  }

  private load(): Promise<CallState | undefined> {
    return this.ctx.storage.get<CallState>(STATE_KEY);
  }
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
    quality: Object.entries(qualities).map(([userId, aggregate]) => ({ userId, summary: summarise(aggregate) })),
  };
}

function logIds(state: CallState) {
  return { tenantId: state.tenantId, callId: state.callId, callerId: state.caller.userId, calleeId: state.callee.userId };
}

import { describe, expect, it } from 'vitest';
import { applyAction, memberUnreachable, nextDeadline, ringTimeout } from '../src/signaling/callState.ts';
import type { Actor } from '../src/objects/actor.ts';
import type { CallState, Effect } from '../src/signaling/types.ts';
import { ringingCall, T0 } from './calls.ts';

const member = (userId: string) => ({ userId, displayName: userId.toUpperCase() });
const bob: Actor = { tenantId: 't1', userId: 'bob', deviceId: 'b1' };
const carol: Actor = { tenantId: 't1', userId: 'carol', deviceId: 'c1' };
const dave: Actor = { tenantId: 't1', userId: 'dave', deviceId: 'd1' };
const MEMBER_TIMEOUT_MS = 10_000;

/** alice calls a group of bob, carol and dave (bob first). */
function group(strategy: 'simultaneous' | 'in-order'): CallState {
  const others = [member('carol'), member('dave')];
  return {
    ...ringingCall(),
    ringDeadline: T0 + MEMBER_TIMEOUT_MS,
    hunt:
      strategy === 'simultaneous'
        ? { strategy, alsoRinging: others, waiting: [], memberTimeoutMs: MEMBER_TIMEOUT_MS }
        : { strategy, alsoRinging: [], waiting: others, memberTimeoutMs: MEMBER_TIMEOUT_MS },
  };
}

function endedFor(effects: Effect[], userId: string): string[] {
  return effects.flatMap((effect) =>
    effect.kind === 'deliver' && effect.userId === userId && effect.message.type === 'call.ended' ? [effect.message.reason] : [],
  );
}

describe('a ring group that rings everyone at once', () => {
  it('the first member to answer takes the call; the others stop ringing, answered elsewhere', () => {
    const answered = applyAction(group('simultaneous'), carol, { type: 'call.accept', callId: 'call-1' }, T0 + 2_000);
    expect(answered.ok).toBe(true);
    if (!answered.ok) return;
    expect([answered.state.status, answered.state.callee.userId, answered.state.callee.deviceId, answered.state.hunt]).toEqual([
      'active',
      'carol',
      'c1',
      undefined,
    ]);
    expect(endedFor(answered.effects, 'bob')).toEqual(['answered-elsewhere']);
    expect(endedFor(answered.effects, 'dave')).toEqual(['answered-elsewhere']);
    expect(answered.effects).toContainEqual({ kind: 'untrack', userId: 'dave' });
    // Once answered, the others are no part of the call.
    expect(applyAction(answered.state, dave, { type: 'call.accept', callId: 'call-1' }, T0 + 3_000)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('one who declines only stops their own ringing; the call ends when the last one declines', () => {
    const bobDeclines = applyAction(group('simultaneous'), bob, { type: 'call.reject', callId: 'call-1' }, T0 + 1_000);
    expect(bobDeclines.ok && [bobDeclines.state.status, bobDeclines.state.callee.userId]).toEqual(['ringing', 'carol']);
    expect(bobDeclines.ok && endedFor(bobDeclines.effects, 'bob')).toEqual(['rejected']);
    expect(bobDeclines.ok && endedFor(bobDeclines.effects, 'alice')).toEqual([]);
    if (!bobDeclines.ok) return;
    const carolToo = applyAction(bobDeclines.state, carol, { type: 'call.hangup', callId: 'call-1' }, T0 + 1_500);
    if (!carolToo.ok) throw new Error(carolToo.message);
    const last = applyAction(carolToo.state, dave, { type: 'call.reject', callId: 'call-1' }, T0 + 2_000);
    expect(last.ok && [last.state.status, last.state.endReason]).toEqual(['ended', 'rejected']);
    expect(last.ok && endedFor(last.effects, 'alice')).toEqual(['rejected']);
  });

  it('members nobody could ring drop out; everyone busy ends it busy', () => {
    const busyBob = memberUnreachable(group('simultaneous'), 'bob', 'busy', T0);
    expect(busyBob.ok && [busyBob.state.status, busyBob.state.callee.userId, busyBob.effects]).toEqual(['ringing', 'carol', []]);
    if (!busyBob.ok) return;
    const busyCarol = memberUnreachable(busyBob.state, 'carol', 'unavailable', T0);
    if (!busyCarol.ok) throw new Error(busyCarol.message);
    const busyDave = memberUnreachable(busyCarol.state, 'dave', 'busy', T0);
    expect(busyDave.ok && [busyDave.state.status, busyDave.state.endReason]).toEqual(['ended', 'busy']);
  });

  it('nobody answers within the ring time: it ends for everyone', () => {
    const timedOut = ringTimeout(group('simultaneous'), T0 + MEMBER_TIMEOUT_MS);
    expect(timedOut.ok && timedOut.state.endReason).toBe('no-answer');
    for (const userId of ['alice', 'bob', 'carol', 'dave']) expect(timedOut.ok && endedFor(timedOut.effects, userId)).toEqual(['no-answer']);
  });
});

describe('a ring group that rings one after another', () => {
  it('each member rings for the member timeout, then the next; after the last, no answer', () => {
    const first = group('in-order');
    expect(applyAction(first, carol, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000)).toMatchObject({ ok: false, code: 'forbidden' });
    const toCarol = ringTimeout(first, T0 + MEMBER_TIMEOUT_MS);
    if (!toCarol.ok) throw new Error(toCarol.message);
    expect([toCarol.state.status, toCarol.state.callee.userId, nextDeadline(toCarol.state)]).toEqual(['ringing', 'carol', T0 + 2 * MEMBER_TIMEOUT_MS]);
    expect(endedFor(toCarol.effects, 'bob')).toEqual(['no-answer']);
    expect(toCarol.effects).toContainEqual({ kind: 'ring', userId: 'carol' });
    expect(endedFor(toCarol.effects, 'alice')).toEqual([]);
    const toDave = applyAction(toCarol.state, carol, { type: 'call.reject', callId: 'call-1' }, T0 + 12_000);
    if (!toDave.ok) throw new Error(toDave.message);
    expect(toDave.effects).toContainEqual({ kind: 'ring', userId: 'dave' });
    expect(endedFor(toDave.effects, 'carol')).toEqual(['rejected']);
    expect(toDave.state.callee.userId).toBe('dave');
    const answered = applyAction(toDave.state, dave, { type: 'call.accept', callId: 'call-1' }, T0 + 13_000);
    expect(answered.ok && [answered.state.status, answered.state.callee.userId]).toEqual(['active', 'dave']);
    const nobody = ringTimeout(toDave.state, T0 + 12_000 + MEMBER_TIMEOUT_MS);
    expect(nobody.ok && [nobody.state.status, nobody.state.endReason]).toEqual(['ended', 'no-answer']);
  });

  it('a member who is busy or offline is passed over at once, without a message to them', () => {
    const passed = memberUnreachable(group('in-order'), 'bob', 'busy', T0 + 100);
    expect(passed.ok && [passed.state.callee.userId, passed.effects]).toEqual(['carol', [{ kind: 'ring', userId: 'carol' }]]);
    // A report about someone not ringing (yet) changes nothing.
    expect(memberUnreachable(group('in-order'), 'dave', 'busy', T0 + 100)).toMatchObject({ ok: true, state: group('in-order'), effects: [] });
  });

  it('the caller cancelling stops whoever rings', () => {
    const cancelled = applyAction(
      group('in-order'),
      { tenantId: 't1', userId: 'alice', deviceId: 'a1' },
      { type: 'call.cancel', callId: 'call-1' },
      T0 + 1_000,
    );
    expect(cancelled.ok && endedFor(cancelled.effects, 'bob')).toEqual(['cancelled']);
    expect(cancelled.ok && endedFor(cancelled.effects, 'carol')).toEqual([]);
  });
});

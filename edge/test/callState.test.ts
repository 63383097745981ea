import { describe, expect, it } from 'vitest';
import {
  applyAction,
  DEVICE_GRACE_MS,
  deviceBack,
  deviceLost,
  graceExpired,
  lineOf,
  maxDurationReached,
  nextDeadline,
  ringing as startRinging,
  claimReplacement,
  permitReplacement,
  REPLACEMENT_WINDOW_MS,
  replaced,
  ringTimeout,
  transfer,
} from '../src/signaling/callState.ts';
import type { Actor } from '../src/objects/actor.ts';
import type { CallState } from '../src/signaling/types.ts';
import { ringingCall as ringing, T0 } from './calls.ts';

const alice: Actor = { tenantId: 't1', userId: 'alice', deviceId: 'a1' };
const bobPhone: Actor = { tenantId: 't1', userId: 'bob', deviceId: 'b1' };
const bobDesk: Actor = { tenantId: 't1', userId: 'bob', deviceId: 'b2' };
const carol: Actor = { tenantId: 't1', userId: 'carol', deviceId: 'c1' };
const outsider: Actor = { tenantId: 't2', userId: 'bob', deviceId: 'b1' };

function answered(): CallState {
  const result = applyAction(ringing(), bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
  if (!result.ok) throw new Error(result.message);
  return result.state;
}

describe('call state machine', () => {
  it('accepting makes the call active on the answering device and tells the others', () => {
    const result = applyAction(ringing(), bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.state.status).toBe('active');
    expect(result.state.callee.deviceId).toBe('b1');
    expect(result.state.answeredAt).toBe(T0 + 1_000);
    expect(result.effects).toContainEqual(
      expect.objectContaining({ userId: 'bob', devices: { except: 'b1' }, message: expect.objectContaining({ reason: 'answered-elsewhere' }) }),
    );
    expect(result.effects).toContainEqual(
      expect.objectContaining({ userId: 'alice', message: expect.objectContaining({ type: 'call.accepted', role: 'caller' }) }),
    );
  });

  it('hang-up ends with the talk time as duration', () => {
    const result = applyAction(answered(), alice, { type: 'call.hangup', callId: 'call-1' }, T0 + 61_000);
    expect(result.ok && result.state.endReason).toBe('hangup');
    expect(result.ok && result.effects[0]).toMatchObject({ message: { type: 'call.ended', durationMs: 60_000 } });
  });

  it('hang-up before the answer is a cancel from the caller and a reject from the callee', () => {
    const byCaller = applyAction(ringing(), alice, { type: 'call.hangup', callId: 'call-1' }, T0 + 5);
    const byCallee = applyAction(ringing(), bobDesk, { type: 'call.hangup', callId: 'call-1' }, T0 + 5);
    expect(byCaller.ok && byCaller.state.endReason).toBe('cancelled');
    expect(byCallee.ok && byCallee.state.endReason).toBe('rejected');
  });

  it('refuses actions by non-participants, other tenants and the wrong side', () => {
    expect(applyAction(ringing(), carol, { type: 'call.accept', callId: 'call-1' }, T0)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(applyAction(ringing(), outsider, { type: 'call.accept', callId: 'call-1' }, T0)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(applyAction(ringing(), alice, { type: 'call.accept', callId: 'call-1' }, T0)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(applyAction(ringing(), bobPhone, { type: 'call.cancel', callId: 'call-1' }, T0)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(applyAction(answered(), bobDesk, { type: 'call.hangup', callId: 'call-1' }, T0)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('relays media negotiation only in an answered call, only to the other device', () => {
    const early = applyAction(ringing(), alice, { type: 'call.offer', callId: 'call-1', sdp: 'v=0' }, T0);
    expect(early).toMatchObject({ ok: false, code: 'invalid_state' });
    const relayed = applyAction(answered(), alice, { type: 'call.offer', callId: 'call-1', sdp: 'v=0', ref: 'r1' }, T0);
    expect(relayed.ok && relayed.effects).toEqual([
      { kind: 'deliver', userId: 'bob', devices: { only: 'b1' }, message: { type: 'call.offer', callId: 'call-1', sdp: 'v=0' } },
    ]);
  });

  it('tells the other side of an answered call about a mute, and nobody else', () => {
    const mute = { type: 'call.mute', callId: 'call-1', muted: true } as const;
    expect(applyAction(ringing(), alice, mute, T0)).toMatchObject({ ok: false, code: 'invalid_state' });
    expect(applyAction(answered(), bobDesk, mute, T0)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(applyAction(answered(), outsider, mute, T0)).toMatchObject({ ok: false, code: 'forbidden' });
    const fromBob = applyAction(answered(), bobPhone, { ...mute, ref: 'r2' }, T0);
    expect(fromBob.ok && fromBob.effects).toEqual([{ kind: 'deliver', userId: 'alice', devices: { only: 'a1' }, message: mute }]);
    const recorded = applyAction({ ...answered(), roomId: 'room-1' }, alice, { ...mute, muted: false }, T0);
    expect(recorded.ok && recorded.effects).toEqual([{ kind: 'deliver', userId: 'bob', devices: { only: 'b1' }, message: { ...mute, muted: false } }]);
  });

  it('times out as no-answer only after the deadline', () => {
    expect(ringTimeout(ringing(), T0 + 29_999)).toMatchObject({ ok: true, effects: [] });
    const late = ringTimeout(ringing(), T0 + 30_000);
    expect(late.ok && late.state.endReason).toBe('no-answer');
  });

  it('a lost device ends the call after the grace period unless it comes back', () => {
    const lost = deviceLost(answered(), alice, T0 + 2_000);
    if (!lost.ok) throw new Error('unexpected');
    expect(nextDeadline(lost.state)).toBe(T0 + 2_000 + DEVICE_GRACE_MS);
    expect(graceExpired(lost.state, T0 + 2_000 + DEVICE_GRACE_MS - 1)).toMatchObject({ ok: true, effects: [] });
    const expired = graceExpired(lost.state, T0 + 2_000 + DEVICE_GRACE_MS);
    expect(expired.ok && expired.state.endReason).toBe('connection-lost');
    const back = deviceBack(lost.state, alice);
    expect(back.ok && back.state.lostDevices).toEqual({});
    // A callee device that never answered does not hold the call.
    const bystander = deviceLost(answered(), bobDesk, T0);
    expect(bystander.ok && bystander.state.lostDevices).toEqual({});
  });

  it('an ended call answers invalid_state to its participants', () => {
    const ended = applyAction(answered(), alice, { type: 'call.hangup', callId: 'call-1' }, T0 + 2_000);
    if (!ended.ok) throw new Error('unexpected');
    expect(applyAction(ended.state, bobPhone, { type: 'call.hangup', callId: 'call-1' }, T0)).toMatchObject({ ok: false, code: 'invalid_state' });
    expect(nextDeadline(ended.state)).toBeNull();
  });

  describe('a SIP device in the call (protocol/src/sip.ts)', () => {
    const desk: Actor = { tenantId: 't1', userId: 'bob', deviceId: 'sip-bob' };

    it("a callee that offers in its accept hands the offer to the caller's call.accepted, and to no one else", () => {
      const result = applyAction(ringing(), desk, { type: 'call.accept', callId: 'call-1', sdp: 'v=0 phone offer' }, T0 + 1_000);
      if (!result.ok) throw new Error(result.message);
      const accepted = result.effects.flatMap((e) => (e.kind === 'deliver' && e.message.type === 'call.accepted' ? [e] : []));
      expect(accepted.find((e) => e.userId === 'alice')?.message).toMatchObject({ role: 'caller', sdp: 'v=0 phone offer' });
      expect(accepted.find((e) => e.userId === 'bob')?.message).not.toHaveProperty('sdp');
      // The caller's answer then goes to the phone.
      const answer = applyAction(result.state, alice, { type: 'call.answer', callId: 'call-1', sdp: 'v=0 answer' }, T0 + 1_500);
      expect(answer.ok && answer.effects).toEqual([
        { kind: 'deliver', userId: 'bob', devices: { only: 'sip-bob' }, message: { type: 'call.answer', callId: 'call-1', sdp: 'v=0 answer' } },
      ]);
    });

    it('a recorded call refuses an offer in the accept: its media goes through the room', () => {
      const result = applyAction({ ...ringing(), roomId: 'room-1' }, desk, { type: 'call.accept', callId: 'call-1', sdp: 'v=0' }, T0 + 1_000);
      expect(result).toMatchObject({ ok: false, code: 'invalid_state' });
    });

    it('ringing tells the caller once and keeps when it started, for the post-dial delay', () => {
      const first = startRinging(ringing(), T0 + 120);
      expect(first.ok && first.state.ringingAt).toBe(T0 + 120);
      expect(first.ok && first.effects).toEqual([
        {
          kind: 'deliver',
          userId: 'alice',
          devices: { only: 'a1' },
          message: { type: 'call.ringing', callId: 'call-1', to: { userId: 'bob', displayName: 'Bob' } },
        },
      ]);
      if (!first.ok) return;
      const again = startRinging(first.state, T0 + 500);
      expect(again.ok && again.state.ringingAt).toBe(T0 + 120);
      expect(again.ok && again.effects).toEqual([]);
    });

    it('the SIP status a phone reports with its reject is kept with the end', () => {
      const rejected = applyAction(ringing(), desk, { type: 'call.reject', callId: 'call-1', sipStatus: 486 }, T0 + 2_000);
      expect(rejected.ok && rejected.state).toMatchObject({ status: 'ended', endReason: 'rejected', sipStatus: 486 });
      const hungUp = applyAction(answered(), alice, { type: 'call.hangup', callId: 'call-1' }, T0 + 9_000);
      expect(hungUp.ok && hungUp.state.sipStatus).toBeNull();
    });
  });

  describe('blind transfer', () => {
    const carolParty = { userId: 'carol', displayName: 'Carol' };

    it('ends the call `transferred` for both, and tells the other party whom to call in its end', () => {
      const result = transfer(answered(), bobPhone, carolParty, T0 + 5_000);
      if (!result.ok) throw new Error(result.message);
      expect(result.state).toMatchObject({ status: 'ended', endReason: 'transferred' });
      expect(result.effects).toContainEqual({
        kind: 'deliver',
        userId: 'alice',
        devices: { only: 'a1' },
        message: { type: 'call.ended', callId: 'call-1', reason: 'transferred', durationMs: 4_000, transferTo: carolParty },
      });
      const toBob = result.effects.find((effect) => effect.kind === 'deliver' && effect.userId === 'bob');
      expect(toBob).toMatchObject({ message: { type: 'call.ended', reason: 'transferred' } });
      expect(toBob?.kind === 'deliver' && 'transferTo' in toBob.message).toBe(false);
    });

    it('only a party of a call in progress, from its device, to someone outside the call', () => {
      expect(transfer(ringing(), alice, carolParty, T0)).toMatchObject({ ok: false, code: 'invalid_state' });
      expect(transfer(answered(), bobDesk, carolParty, T0)).toMatchObject({ ok: false, code: 'forbidden' });
      expect(transfer(answered(), carol, carolParty, T0)).toMatchObject({ ok: false, code: 'forbidden' });
      expect(transfer(answered(), outsider, carolParty, T0)).toMatchObject({ ok: false, code: 'forbidden' });
      expect(transfer(answered(), alice, { userId: 'bob', displayName: 'Bob' }, T0)).toMatchObject({ ok: false, code: 'bad_request' });
      expect(transfer({ ...answered(), roomId: 'room-1' }, alice, carolParty, T0)).toMatchObject({ ok: false, code: 'invalid_state' });
    });
  });

  describe('an outside party (a line the gateway carries)', () => {
    const gateway = { nodeId: 'sip-1', controlUrl: 'http://127.0.0.1:9' };
    function fromOutside(): CallState {
      const call = ringing();
      return {
        ...call,
        caller: { userId: 'pstn-line1', displayName: 'Dr Outside', number: '+442079460123', deviceId: 'pstn-line1', via: gateway },
      };
    }

    it('is shown to the callee with its number, and the callee’s acceptance goes to the line', () => {
      const result = applyAction(fromOutside(), bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
      if (!result.ok) throw new Error(result.message);
      expect(result.effects).toContainEqual(
        expect.objectContaining({
          userId: 'bob',
          message: expect.objectContaining({ type: 'call.accepted', peer: { userId: 'pstn-line1', displayName: 'Dr Outside', number: '+442079460123' } }),
        }),
      );
      expect(lineOf(result.state, 'pstn-line1')?.via).toEqual(gateway);
      expect(lineOf(result.state, 'bob')).toBeNull();
    });

    it('a call to the outside ends for both sides at its maximum duration, and not before', () => {
      const accepted = applyAction({ ...fromOutside(), maxDurationMs: 60_000 }, bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
      if (!accepted.ok) throw new Error(accepted.message);
      expect(nextDeadline(accepted.state)).toBe(T0 + 61_000);
      expect(maxDurationReached(accepted.state, T0 + 60_999)).toMatchObject({ ok: true, state: accepted.state, effects: [] });
      const cut = maxDurationReached(accepted.state, T0 + 61_000);
      if (!cut.ok) throw new Error(cut.message);
      expect(cut.state).toMatchObject({ status: 'ended', endReason: 'max-duration' });
      const told = cut.effects.filter((effect) => effect.kind === 'deliver').map((effect) => effect.kind === 'deliver' && effect.userId);
      expect(told.sort()).toEqual(['bob', 'pstn-line1']);
      // A call without a maximum (between colleagues) has no such deadline.
      expect(maxDurationReached(answered(), T0 + 10 ** 9)).toMatchObject({ state: answered() });
    });

    it('cannot be transferred yet, by either side', () => {
      const accepted = applyAction(fromOutside(), bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
      if (!accepted.ok) throw new Error(accepted.message);
      expect(transfer(accepted.state, bobPhone, { userId: 'carol', displayName: 'Carol' }, T0 + 2_000)).toMatchObject({ ok: false, code: 'invalid_state' });
    });
  });

  describe('attended transfer', () => {
    // call-1 is alice (caller) with bob on b1; the consultation call-2 is bob calling carol.
    const consultation = (): CallState => {
      const start: CallState = {
        ...ringing(),
        callId: 'call-2',
        caller: { userId: 'bob', displayName: 'Bob', deviceId: 'b1' },
        callee: { userId: 'carol', displayName: 'Carol', deviceId: null },
      };
      const result = applyAction(start, carol, { type: 'call.accept', callId: 'call-2' }, T0 + 2_000);
      if (!result.ok) throw new Error(result.message);
      return result.state;
    };
    const permitted = (): CallState => {
      const result = permitReplacement(consultation(), bobPhone, 'alice', 'carol', T0 + 3_000);
      if (!result.ok) throw new Error(result.message);
      return result.state;
    };

    it('the transferor lets the transferee take the consultation call over, briefly, towards its other party', () => {
      const state = permitted();
      expect(state.replaceableBy).toEqual({ userId: 'alice', target: 'callee', until: T0 + 3_000 + REPLACEMENT_WINDOW_MS });
      expect(state.status).toBe('active');
      expect(claimReplacement(state, { tenantId: 't1', userId: 'alice' }, 'carol', T0 + 4_000)).toEqual({ ok: true, deviceId: 'c1' });
    });

    it('only the permitted user, calling the target, in time, from the same tenant, may claim it; all others hear not found', () => {
      const state = permitted();
      const late = T0 + 3_000 + REPLACEMENT_WINDOW_MS + 1;
      for (const [claimant, callee, now] of [
        [{ tenantId: 't1', userId: 'dave' }, 'carol', T0 + 4_000],
        [{ tenantId: 't1', userId: 'alice' }, 'bob', T0 + 4_000],
        [{ tenantId: 't1', userId: 'alice' }, 'carol', late],
        [{ tenantId: 't2', userId: 'alice' }, 'carol', T0 + 4_000],
      ] as const) {
        expect(claimReplacement(state, claimant, callee, now)).toMatchObject({ ok: false, code: 'not_found' });
      }
      expect(claimReplacement(consultation(), { tenantId: 't1', userId: 'alice' }, 'carol', T0 + 4_000)).toMatchObject({ ok: false, code: 'not_found' });
    });

    it('the permit needs the transferor’s device in a consultation in progress with the target', () => {
      expect(permitReplacement(consultation(), bobDesk, 'alice', 'carol', T0)).toMatchObject({ ok: false, code: 'forbidden' });
      expect(permitReplacement(consultation(), outsider, 'alice', 'carol', T0)).toMatchObject({ ok: false, code: 'not_found' });
      expect(permitReplacement(consultation(), bobPhone, 'alice', 'dave', T0)).toMatchObject({ ok: false, code: 'bad_request' });
      expect(permitReplacement(consultation(), bobPhone, 'carol', 'carol', T0)).toMatchObject({ ok: false, code: 'bad_request' });
      expect(permitReplacement(ringing(), alice, 'carol', 'bob', T0)).toMatchObject({ ok: false, code: 'invalid_state' });
    });

    it('the transferred call names the target and the call to take over; answering the new call ends the consultation', () => {
      const result = transfer(answered(), bobPhone, { userId: 'carol', displayName: 'Carol' }, T0 + 5_000, 'call-2');
      if (!result.ok) throw new Error(result.message);
      expect(result.effects).toContainEqual(
        expect.objectContaining({
          userId: 'alice',
          message: expect.objectContaining({ transferTo: { userId: 'carol', displayName: 'Carol' }, replaces: 'call-2' }),
        }),
      );
      const takeover: CallState = {
        ...ringing(),
        callId: 'call-3',
        callee: { userId: 'carol', displayName: 'Carol', deviceId: null },
        replaces: 'call-2',
      };
      const accepted = applyAction(takeover, carol, { type: 'call.accept', callId: 'call-3' }, T0 + 6_000);
      if (!accepted.ok) throw new Error(accepted.message);
      expect(accepted.effects).toContainEqual({ kind: 'replace', callId: 'call-2' });
      const ended = replaced(permitted(), T0 + 6_100);
      if (!ended.ok) throw new Error(ended.message);
      expect(ended.state).toMatchObject({ status: 'ended', endReason: 'transferred' });
      expect(replaced(ended.state, T0 + 7_000)).toMatchObject({ ok: true, effects: [] });
    });
  });

  describe('a recorded call', () => {
    const recorded = (): CallState => ({ ...ringing(), roomId: 'room-1' });
    const accepted = () => {
      const result = applyAction(recorded(), bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
      if (!result.ok) throw new Error(result.message);
      return result;
    };

    it('opens its room before telling both parties to join it', () => {
      const { effects } = accepted();
      expect(effects[0]).toEqual({ kind: 'room.open', roomId: 'room-1' });
      const acceptedMessages = effects.flatMap((e) => (e.kind === 'deliver' && e.message.type === 'call.accepted' ? [e.message] : []));
      expect(acceptedMessages).toHaveLength(2);
      expect(acceptedMessages.every((m) => m.roomId === 'room-1')).toBe(true);
    });

    it('a peer-to-peer call names no room and opens none', () => {
      const result = applyAction(ringing(), bobPhone, { type: 'call.accept', callId: 'call-1' }, T0 + 1_000);
      expect(result.ok && result.effects.some((e) => e.kind === 'room.open' || (e.kind === 'deliver' && 'roomId' in e.message))).toBe(false);
    });

    it('refuses SDP and ICE: its media goes through the room', () => {
      const { state } = accepted();
      for (const action of [
        { type: 'call.offer', callId: 'call-1', sdp: 'v=0' },
        { type: 'call.answer', callId: 'call-1', sdp: 'v=0' },
        { type: 'call.ice', callId: 'call-1', candidate: { candidate: 'candidate:1' } },
      ] as const) {
        const result = applyAction(state, action.type === 'call.answer' ? bobPhone : alice, action, T0 + 2_000);
        expect(result.ok || result.code).toBe('invalid_state');
      }
    });

    it('closes its room when it ends after the answer, and not when it never was answered', () => {
      const hungUp = applyAction(accepted().state, bobPhone, { type: 'call.hangup', callId: 'call-1' }, T0 + 9_000);
      expect(hungUp.ok && hungUp.effects).toContainEqual({ kind: 'room.close', roomId: 'room-1' });
      expect(hungUp.ok && hungUp.effects[0]).toMatchObject({ message: { type: 'call.ended', reason: 'hangup', durationMs: 8_000 } });
      const dropped = deviceLost(accepted().state, alice, T0 + 2_000);
      if (!dropped.ok) throw new Error(dropped.message);
      const lost = graceExpired(dropped.state, T0 + 2_000 + DEVICE_GRACE_MS);
      expect(lost.ok && lost.effects).toContainEqual({ kind: 'room.close', roomId: 'room-1' });
      const rejected = applyAction(recorded(), bobDesk, { type: 'call.reject', callId: 'call-1' }, T0 + 5);
      expect(rejected.ok && rejected.effects.some((e) => e.kind === 'room.close')).toBe(false);
    });
  });
});

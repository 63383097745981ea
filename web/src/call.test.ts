/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter, type ClientMessage, type Party } from '@callstack/protocol';
import { CallController, END_DISPLAY_MS, callReducer, endMessageType, idleCall, type CallAction, type CallState } from './call.ts';
import type { SignalingEvents } from './signaling.ts';

const bob: Party = { userId: 'bob', displayName: 'Bob' };

function run(...actions: CallAction[]): CallState {
  return actions.reduce(callReducer, idleCall);
}

test('outgoing call: calling → ringing → connecting → active → ended → idle', () => {
  const calling = run({ type: 'dial', callId: 'c1', peer: bob });
  assert.equal(calling.phase, 'calling');
  const ringing = callReducer(calling, { type: 'ringing', callId: 'c1' });
  assert.equal(ringing.phase, 'ringing');
  const connecting = callReducer(ringing, { type: 'accepted', callId: 'c1', peer: bob, answeredAt: 1000 });
  assert.deepEqual([connecting.phase, connecting.answeredAt], ['connecting', 1000]);
  const active = callReducer(connecting, { type: 'connected', callId: 'c1' });
  assert.equal(active.phase, 'active');
  const ended = callReducer(active, { type: 'ended', callId: 'c1', reason: 'hangup', durationMs: 5000 });
  assert.deepEqual([ended.phase, ended.reason, ended.durationMs], ['ended', 'hangup', 5000]);
  const idle = callReducer(ended, { type: 'reset' });
  assert.deepEqual(
    idle,
    { ...idleCall, callId: 'c1', last: { peer: bob, direction: 'outgoing', reason: 'hangup', error: null, durationMs: 5000 } },
    'idle keeps the last call id and how it ended',
  );
  assert.deepEqual(callReducer(idle, { type: 'dismiss' }), { ...idleCall, callId: 'c1' }, 'dismissed, the outcome is gone');
  assert.equal(callReducer(idle, { type: 'dial', callId: 'c2', peer: bob }).last, null, 'a new call replaces the outcome');
});

test('dismissing a failed call returns to idle with no outcome; dismissing a live call does nothing', () => {
  const failed = run({ type: 'dial', callId: 'c1', peer: bob }, { type: 'failed', callId: 'c1', message: 'Not connected' });
  assert.deepEqual(callReducer(failed, { type: 'dismiss' }), { ...idleCall, callId: 'c1' });
  const calling = run({ type: 'dial', callId: 'c1', peer: bob });
  assert.equal(callReducer(calling, { type: 'dismiss' }), calling);
  assert.equal(callReducer(idleCall, { type: 'dismiss' }), idleCall);
});

test('incoming call: accepting once, then connecting', () => {
  const incoming = run({ type: 'incoming', callId: 'c2', from: bob });
  assert.deepEqual([incoming.phase, incoming.direction], ['incoming', 'incoming']);
  const accepting = callReducer(incoming, { type: 'accepting', callId: 'c2' });
  assert.equal(accepting.pending, 'accept');
  assert.equal(callReducer(accepting, { type: 'accepting', callId: 'c2' }), accepting, 'second click is a no-op');
  const connecting = callReducer(accepting, { type: 'accepted', callId: 'c2', peer: bob, answeredAt: 1 });
  assert.deepEqual([connecting.phase, connecting.pending], ['connecting', null]);
});

test('frames of other calls and calls while busy are ignored', () => {
  const calling = run({ type: 'dial', callId: 'c1', peer: bob });
  for (const action of [
    { type: 'incoming', callId: 'c9', from: bob },
    { type: 'dial', callId: 'c9', peer: bob },
    { type: 'ended', callId: 'c9', reason: 'busy', durationMs: 0 },
    { type: 'ringing', callId: 'c9' },
    { type: 'reset' },
    { type: 'toggle', key: 'muted' },
  ] satisfies CallAction[]) {
    assert.equal(callReducer(calling, action), calling, action.type);
  }
  const ended = callReducer(calling, { type: 'ended', callId: 'c1', reason: 'no-answer', durationMs: 0 });
  assert.equal(callReducer(ended, { type: 'failed', callId: 'c1', message: 'late' }), ended, 'a finished call stays finished');
  assert.equal(callReducer(ended, { type: 'dial', callId: 'c3', peer: bob }).phase, 'calling', 'a new call may start at once');
});

test('failed keeps its message and does not return to idle by itself', () => {
  const failed = run({ type: 'dial', callId: 'c1', peer: bob }, { type: 'failed', callId: 'c1', message: 'User not found' });
  assert.deepEqual([failed.phase, failed.error], ['failed', 'User not found']);
  assert.equal(callReducer(failed, { type: 'reset' }), failed);
});

test('mute and camera toggle only during a call', () => {
  const connecting = run({ type: 'dial', callId: 'c1', peer: bob }, { type: 'accepted', callId: 'c1', peer: bob, answeredAt: 1 });
  const muted = callReducer(connecting, { type: 'toggle', key: 'muted' });
  assert.deepEqual([muted.muted, muted.cameraOff], [true, false]);
  assert.equal(callReducer(muted, { type: 'toggle', key: 'cameraOff' }).cameraOff, true);
});

test("the other side's mute shows during the call only, and a new call starts unmuted", () => {
  const connecting = run({ type: 'dial', callId: 'c1', peer: bob }, { type: 'accepted', callId: 'c1', peer: bob, answeredAt: 1 });
  const peerMuted = callReducer(connecting, { type: 'peer-muted', callId: 'c1', muted: true });
  assert.equal(peerMuted.peerMuted, true);
  assert.equal(callReducer(peerMuted, { type: 'peer-muted', callId: 'c1', muted: true }), peerMuted, 'a repeat is a no-op');
  assert.equal(callReducer(peerMuted, { type: 'peer-muted', callId: 'other', muted: false }), peerMuted, "another call's news is stale");
  assert.equal(callReducer(peerMuted, { type: 'peer-muted', callId: 'c1', muted: false }).peerMuted, false);
  const ringing = run({ type: 'dial', callId: 'c1', peer: bob });
  assert.equal(callReducer(ringing, { type: 'peer-muted', callId: 'c1', muted: true }), ringing, 'not before the answer');
  const next = callReducer(callReducer(peerMuted, { type: 'ended', callId: 'c1', reason: 'hangup', durationMs: 5 }), { type: 'dial', callId: 'c2', peer: bob });
  assert.equal(next.peerMuted, false);
});

test('the end message depends on the phase', () => {
  assert.equal(endMessageType('incoming'), 'call.reject');
  assert.equal(endMessageType('calling'), 'call.cancel');
  assert.equal(endMessageType('ringing'), 'call.cancel');
  assert.equal(endMessageType('connecting'), 'call.hangup');
  assert.equal(endMessageType('active'), 'call.hangup');
});

/** Stands in for the WebSocket client: records what is sent, delivers what the edge would send. */
class FakeSignaling extends Emitter<SignalingEvents> {
  sent: ClientMessage[] = [];
  online = true;
  get status() {
    return this.online ? ('online' as const) : ('connecting' as const);
  }
  send(message: ClientMessage): boolean {
    if (this.online) this.sent.push(message);
    return this.online;
  }
  deliver<K extends keyof SignalingEvents>(event: K, ...args: SignalingEvents[K]): void {
    this.emit(event, ...args);
  }
}

function controller() {
  const signaling = new FakeSignaling();
  const call = new CallController({ signaling, iceServers: () => Promise.resolve([]), iceTransportPolicy: () => 'all' });
  return { signaling, call };
}

test('controller: invite, ringing, cancel, then the edge’s call.ended and back to idle', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { signaling, call } = controller();
  call.call(bob);
  const invite = signaling.sent[0];
  assert.ok(invite?.type === 'call.invite');
  assert.deepEqual([invite.to, invite.media], ['bob', { audio: true, video: true }]);
  const callId = invite.callId;
  signaling.deliver('call', { type: 'call.ringing', callId, to: bob });
  assert.equal(call.state.phase, 'ringing');
  call.end();
  assert.deepEqual(signaling.sent[1], { type: 'call.cancel', ref: signaling.sent[1]?.ref, callId });
  assert.equal(call.state.pending, 'end');
  signaling.deliver('call', { type: 'call.ended', callId, reason: 'cancelled', durationMs: 0 });
  assert.deepEqual([call.state.phase, call.state.reason], ['ended', 'cancelled']);
  t.mock.timers.tick(END_DISPLAY_MS);
  assert.deepEqual([call.state.phase, call.state.callId], ['idle', callId]);
  call.dispose();
});

test('controller: an error answering one of our requests fails the call with its message', () => {
  const { signaling, call } = controller();
  call.call(bob);
  signaling.deliver('error', { type: 'error', ref: 'not-ours', code: 'not_found', message: 'ignored' });
  assert.equal(call.state.phase, 'calling');
  signaling.deliver('error', { type: 'error', ref: signaling.sent[0]?.ref, code: 'not_found', message: 'No such user' });
  assert.deepEqual([call.state.phase, call.state.error], ['failed', 'No such user']);
  call.dispose();
});

test('controller: offline invite fails; a reconnect that no longer lists the call ends it', () => {
  const { signaling, call } = controller();
  signaling.online = false;
  call.call(bob);
  assert.equal(call.state.phase, 'failed');
  signaling.online = true;
  signaling.deliver('call', { type: 'call.incoming', callId: 'in1', from: bob, media: { audio: true, video: true } });
  assert.equal(call.state.phase, 'incoming');
  signaling.deliver('hello', { type: 'hello', userId: 'me', deviceId: 'd', activeCalls: [{ callId: 'in1', state: 'ringing' }] });
  assert.equal(call.state.phase, 'incoming');
  signaling.deliver('hello', { type: 'hello', userId: 'me', deviceId: 'd', activeCalls: [] });
  assert.deepEqual([call.state.phase, call.state.reason], ['ended', 'connection-lost']);
  call.dispose();
});

test('controller: reject sends call.reject', () => {
  const { signaling, call } = controller();
  signaling.deliver('call', { type: 'call.incoming', callId: 'in2', from: bob, media: { audio: true, video: true } });
  call.end();
  assert.equal(signaling.sent[0]?.type, 'call.reject');
  call.dispose();
});

test('a recorded call: the reducer keeps the choice and the room', () => {
  const calling = run({ type: 'dial', callId: 'c1', peer: bob, record: true });
  assert.deepEqual([calling.record, calling.roomId], [true, null]);
  const connecting = callReducer(calling, { type: 'accepted', callId: 'c1', peer: bob, answeredAt: 1, roomId: 'room-1' });
  assert.deepEqual([connecting.phase, connecting.record, connecting.roomId], ['connecting', true, 'room-1']);
  const incoming = run({ type: 'incoming', callId: 'c2', from: bob, record: true });
  assert.equal(incoming.record, true, 'the callee sees it before answering');
  assert.deepEqual([run({ type: 'dial', callId: 'c3', peer: bob }).record, run({ type: 'incoming', callId: 'c4', from: bob }).roomId], [false, null]);
});

/** Waits for `condition` (a slow machine only makes it take longer), failing after 10 s with `describe()`. */
async function eventually(condition: () => boolean, describe: () => string): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition();) {
    if (Date.now() > deadline) assert.fail(describe());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('controller: a recorded call joins the call’s room instead of offering SDP, and drops it at the end', async () => {
  // The controller fetches the conference module on demand; loaded here first, it is at hand at once.
  await import('./conference/Conference.ts');
  const { signaling, call } = controller();
  call.call(bob, true);
  const invite = signaling.sent[0];
  assert.ok(invite?.type === 'call.invite');
  assert.equal(invite.record, true);
  const { callId } = invite;
  signaling.deliver('call', { type: 'call.accepted', callId, role: 'caller', peer: bob, answeredAt: 1, roomId: 'room-1' });
  assert.equal(call.state.roomId, 'room-1');
  // The conference asks for camera and microphone (none here), then joins: however long that takes here.
  await eventually(
    () => signaling.sent.some((m) => m.type === 'room.join' && m.roomId === 'room-1'),
    () => JSON.stringify(signaling.sent.map((m) => m.type)),
  );
  assert.ok(call.conference, 'a conference runs for the call');
  assert.ok(!signaling.sent.some((m) => m.type === 'call.offer'), 'no SDP for a recorded call');
  assert.equal(call.recording, false);
  signaling.deliver('call', { type: 'call.ended', callId, reason: 'hangup', durationMs: 5 });
  assert.equal(call.conference, null);
  call.dispose();
});

test('controller: a recorded call that ends before the conference module has arrived joins no room', async () => {
  const { signaling, call } = controller();
  call.call(bob, true);
  const invite = signaling.sent[0];
  assert.ok(invite?.type === 'call.invite');
  signaling.deliver('call', { type: 'call.accepted', callId: invite.callId, role: 'caller', peer: bob, answeredAt: 1, roomId: 'room-1' });
  signaling.deliver('call', { type: 'call.ended', callId: invite.callId, reason: 'hangup', durationMs: 0 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(call.conference, null);
  assert.ok(!signaling.sent.some((m) => m.type === 'room.join'), JSON.stringify(signaling.sent.map((m) => m.type)));
  call.dispose();
});

test('controller: a call that ends `transferred` with a target makes the device call it', () => {
  const { signaling, call } = controller();
  const carol: Party = { userId: 'carol', displayName: 'Carol' };
  signaling.deliver('call', { type: 'call.incoming', callId: 'c1', from: bob, media: { audio: true, video: false } });
  // The end of another call naming a target places no call.
  signaling.deliver('call', {
    type: 'call.ended',
    callId: 'other',
    reason: 'transferred',
    durationMs: 9_000,
    transferTo: { userId: 'dave', displayName: 'Dave' },
  });
  signaling.deliver('call', { type: 'call.ended', callId: 'c1', reason: 'transferred', durationMs: 9_000, transferTo: carol });
  const invites = signaling.sent.filter((message) => message.type === 'call.invite');
  assert.equal(invites.length, 1);
  assert.equal(invites[0]?.type === 'call.invite' && invites[0].to, 'carol');
  assert.deepEqual([call.state.phase, call.state.peer], ['calling', carol]);
  call.dispose();
});

test('attended transfer: a call that takes over the current one is answered at once; others are not', () => {
  const carol: Party = { userId: 'carol', displayName: 'Carol' };
  const connecting = run({ type: 'incoming', callId: 'c1', from: bob }, { type: 'accepted', callId: 'c1', peer: bob, answeredAt: 1 });
  const takenOver = callReducer(connecting, { type: 'takeover', callId: 'c2', replaces: 'c1', from: carol });
  assert.deepEqual([takenOver.phase, takenOver.callId, takenOver.peer, takenOver.pending], ['incoming', 'c2', carol, 'accept']);
  assert.equal(callReducer(connecting, { type: 'takeover', callId: 'c2', replaces: 'c9', from: carol }), connecting, 'another call’s takeover');
  const ringing = run({ type: 'incoming', callId: 'c1', from: bob });
  assert.equal(callReducer(ringing, { type: 'takeover', callId: 'c2', replaces: 'c1', from: carol }), ringing, 'only a call in progress');
});

test('controller: the transferee of an attended transfer calls the target with the call to take over', () => {
  const { signaling, call } = controller();
  const carol: Party = { userId: 'carol', displayName: 'Carol' };
  signaling.deliver('call', { type: 'call.incoming', callId: 'c1', from: bob, media: { audio: true, video: false } });
  signaling.deliver('call', { type: 'call.ended', callId: 'c1', reason: 'transferred', durationMs: 9_000, transferTo: carol, replaces: 'consult-1' });
  const invite = signaling.sent.find((message) => message.type === 'call.invite');
  assert.ok(invite?.type === 'call.invite');
  assert.deepEqual([invite.to, invite.replaces], ['carol', 'consult-1']);
  call.dispose();
});

test('controller: a consultation places its call and never answers incoming ones', () => {
  const signaling = new FakeSignaling();
  const consultation = new CallController({ signaling, consultation: true, iceServers: () => Promise.resolve([]), iceTransportPolicy: () => 'all' });
  signaling.deliver('call', { type: 'call.incoming', callId: 'in1', from: bob, media: { audio: true, video: true } });
  assert.equal(consultation.state.phase, 'idle');
  consultation.call(bob);
  assert.equal(consultation.state.phase, 'calling');
  consultation.dispose();
});

import { describe, expect, it } from 'vitest';
import {
  findParticipant,
  hasRoom,
  isForgotten,
  joined,
  leave,
  mayBeginRecording,
  mayJoin,
  newRecording,
  newRoom,
  nodeLost,
  nodeReported,
  placed,
  producerChanged,
  recordingStarted,
  relayTarget,
  RETAIN_EMPTY_MS,
  roomDeadline,
  shouldAutoRecord,
  stopRecording,
} from '../src/rooms/roomState.ts';
import type { Applied, PlacedNode, RoomActor, RoomEffect, RoomState, Transition } from '../src/rooms/roomTypes.ts';

const T0 = 1_000_000;
const alice: RoomActor = { tenantId: 't1', userId: 'alice', deviceId: 'a1', displayName: 'Alice' };
const bob: RoomActor = { tenantId: 't1', userId: 'bob', deviceId: 'b1', displayName: 'Bob' };
const carol: RoomActor = { tenantId: 't1', userId: 'carol', deviceId: 'c1', displayName: 'Carol' };
const nodeA: PlacedNode = { nodeId: 'node-a', controlUrl: 'http://a.test', placedAt: T0, rtpCapabilities: { codecs: [], headerExtensions: [] } };
const nodeB: PlacedNode = {
  nodeId: 'node-b',
  controlUrl: 'http://b.test',
  placedAt: T0,
  rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 }], headerExtensions: [] },
};

function ok<T extends Applied>(transition: T | Transition): T {
  if (!transition.ok) throw new Error(transition.message);
  return transition as T;
}

/** An empty room placed on node A (what the first join's placement leaves). */
function placedRoom(call?: { closed?: boolean }): RoomState {
  const room = newRoom('t1', 'room-1', alice, call ? { callId: 'call-1', members: ['alice', 'bob'], autoRecord: true } : undefined, T0);
  if (call?.closed) room.call!.closed = true;
  return ok(placed(room, nodeA, 'node-failed')).state;
}

function enter(state: RoomState, actor: RoomActor, peerId: string, at = T0 + 10): RoomState {
  const participant = { peerId, userId: actor.userId, deviceId: actor.deviceId, displayName: actor.displayName, joinedAt: at };
  return joined(state, participant, state.node!, undefined).state;
}

/** Alice (peer pa) and Bob (peer pb) in the room on node A, Alice publishing her mic. */
function meeting(): RoomState {
  const room = enter(enter(placedRoom(), alice, 'pa'), bob, 'pb');
  return producerChanged(room, 'node-a', 'pa', {
    type: 'producer.created',
    producer: { producerId: 'mic-a', peerId: 'pa', kind: 'audio', source: 'mic', paused: false },
  }).state;
}

const broadcasts = (effects: RoomEffect[]) => effects.flatMap((e) => (e.kind === 'broadcast' ? [{ to: e.to.map((r) => r.peerId), type: e.message.type }] : []));
const kinds = (effects: RoomEffect[]) => effects.map((e) => (e.kind === 'broadcast' ? `broadcast ${e.message.type}` : e.kind));

describe('room state: joining', () => {
  it('the first placement is no move: the room gets its node and nobody is told to migrate', () => {
    const room = newRoom('t1', 'room-1', alice, undefined, T0);
    const first = placed(room, nodeA, 'node-failed');
    expect(first.state.node).toEqual(nodeA);
    expect(first.effects).toEqual([{ kind: 'alarm' }]);
  });

  it('the first joiner gets the node’s capabilities and nobody else to hear of; the next one is announced to the others', () => {
    const room = placedRoom();
    const first = joined(room, { peerId: 'pa', userId: 'alice', deviceId: 'a1', displayName: 'Alice', joinedAt: T0 + 5 }, nodeA, 'r1');
    expect(first.reply).toMatchObject({ type: 'room.joined', ref: 'r1', peerId: 'pa', participants: [], producers: [], createdBy: 'alice', recording: null });
    expect(first.effects).toEqual([{ kind: 'alarm' }]);
    expect(first.state.activeAt).toBe(T0 + 5);
    const second = joined(first.state, { peerId: 'pb', userId: 'bob', deviceId: 'b1', displayName: 'Bob', joinedAt: T0 + 6 }, nodeA, undefined);
    expect(second.reply).toMatchObject({ participants: [{ peerId: 'pa', userId: 'alice', displayName: 'Alice' }] });
    expect(broadcasts(second.effects)).toEqual([{ to: ['pa'], type: 'room.participant.joined' }]);
  });

  it('a full room refuses', () => {
    const room = enter(enter(placedRoom(), alice, 'pa'), bob, 'pb');
    expect(hasRoom(room, 2)).toMatchObject({ ok: false, code: 'invalid_state', message: 'the room is full' });
    expect(hasRoom(room, 3)).toEqual({ ok: true });
  });

  it('a recorded call’s room admits its parties only, and nobody once the call ended', () => {
    expect(mayJoin(placedRoom({}), bob)).toEqual({ ok: true });
    expect(mayJoin(placedRoom({}), carol)).toMatchObject({ ok: false, code: 'forbidden' });
    expect(mayJoin(placedRoom({ closed: true }), alice)).toMatchObject({ ok: false, code: 'invalid_state', message: 'the call has ended' });
    expect(mayJoin(placedRoom(), carol)).toEqual({ ok: true });
  });

  it('the same device joining again replaces its earlier self: it leaves (the others hear so), then joins anew', () => {
    const room = meeting();
    expect(findParticipant(room, alice)?.peerId).toBe('pa');
    const left = ok(leave(room, alice, T0 + 100));
    expect(broadcasts(left.effects)).toEqual([
      { to: ['pb'], type: 'room.producer.closed' },
      { to: ['pb'], type: 'room.participant.left' },
    ]);
    const again = enter(left.state, alice, 'pa2');
    expect(again.participants.map((p) => p.peerId)).toEqual(['pb', 'pa2']);
    expect(again.producers).toEqual([]);
  });
});

describe('room state: leaving', () => {
  it('someone leaving records their stay, tells the others and leaves the node to the rest', () => {
    const left = ok(leave(meeting(), bob, T0 + 100));
    expect(left.state.participants.map((p) => p.peerId)).toEqual(['pa']);
    expect(left.state.node).toEqual(nodeA);
    expect(left.effects[0]).toMatchObject({ kind: 'stay', participant: { peerId: 'pb' }, leftAt: T0 + 100 });
    expect(left.effects).toContainEqual({ kind: 'node.cleanup', node: nodeA, request: { type: 'peer.leave', peerId: 'pb' } });
    expect(kinds(left.effects)).toEqual(['stay', 'broadcast room.participant.left', 'node.cleanup', 'alarm']);
  });

  it('the last one out ends the recording, closes the room on its node and frees the node', () => {
    const room = enter(placedRoom(), alice, 'pa');
    const recording = newRecording(room, nodeA, 'rec-1', { userId: 'alice', displayName: 'Alice' }, T0 + 20);
    const recorded = recordingStarted(room, recording).state;
    const left = ok(leave(recorded, alice, T0 + 100));
    expect(left.state).toMatchObject({ participants: [], node: null, recording: null, activeAt: T0 + 100 });
    expect(kinds(left.effects)).toEqual(['stay', 'recording.end', 'node.cleanup', 'node.release', 'alarm']);
    expect(left.effects).toContainEqual({ kind: 'recording.end', recording, node: nodeA, status: 'completed' });
    expect(left.effects).toContainEqual({ kind: 'node.cleanup', node: nodeA, request: { type: 'room.close' } });
    expect(left.effects).toContainEqual({ kind: 'node.release', nodeId: 'node-a' });
  });

  it('someone not in the room cannot leave it', () => {
    expect(leave(meeting(), carol, T0)).toMatchObject({ ok: false, code: 'invalid_state', message: 'you are not in this room' });
  });
});

describe('room state: producers', () => {
  it('a new producer is announced to the others, never to its owner', () => {
    const room = enter(enter(enter(placedRoom(), alice, 'pa'), bob, 'pb'), carol, 'pc');
    const created = producerChanged(room, 'node-a', 'pb', {
      type: 'producer.created',
      producer: { producerId: 'cam-b', peerId: 'pb', kind: 'video', source: 'camera', paused: false },
    });
    expect(created.state.producers.map((p) => p.producerId)).toEqual(['cam-b']);
    expect(broadcasts(created.effects)).toEqual([{ to: ['pa', 'pc'], type: 'room.producer.new' }]);
  });

  it('pausing and closing are announced to the others; unknown producers change nothing', () => {
    const paused = producerChanged(meeting(), 'node-a', 'pa', { type: 'producer.paused', producerId: 'mic-a', paused: true });
    expect(paused.state.producers[0]!.paused).toBe(true);
    expect(paused.effects).toEqual([
      {
        kind: 'broadcast',
        to: [{ peerId: 'pb', userId: 'bob', deviceId: 'b1' }],
        message: { type: 'room.producer.paused', roomId: 'room-1', producerId: 'mic-a', peerId: 'pa', paused: true },
      },
    ]);
    const closed = producerChanged(paused.state, 'node-a', 'pa', { type: 'producer.closed', producerId: 'mic-a' });
    expect(closed.state.producers).toEqual([]);
    expect(broadcasts(closed.effects)).toEqual([{ to: ['pb'], type: 'room.producer.closed' }]);
    const unknown = producerChanged(closed.state, 'node-a', 'pa', { type: 'producer.closed', producerId: 'mic-a' });
    expect(unknown.state).toBe(closed.state);
    expect(unknown.effects).toEqual([]);
  });

  it('a producer made on a node the room has left, or by someone who left, is forgotten', () => {
    const room = meeting();
    const producer = { producerId: 'cam-b', peerId: 'pb', kind: 'video', source: 'camera', paused: false } as const;
    expect(producerChanged(room, 'node-old', 'pb', { type: 'producer.created', producer }).state).toBe(room);
    expect(producerChanged(room, 'node-a', 'gone', { type: 'producer.created', producer: { ...producer, peerId: 'gone' } }).state).toBe(room);
  });

  it('a producer the node closed is announced to everyone, once', () => {
    const event = { type: 'producer.closed', nodeId: 'node-a', at: T0, roomId: 'x', peerId: 'pa', producerId: 'mic-a', reason: 'transport-closed' } as const;
    const closed = nodeReported(meeting(), event);
    expect(closed.state.producers).toEqual([]);
    expect(broadcasts(closed.effects)).toEqual([{ to: ['pa', 'pb'], type: 'room.producer.closed' }]);
    expect(nodeReported(closed.state, event).effects).toEqual([]);
    const speaker = nodeReported(meeting(), { type: 'speaker.changed', nodeId: 'node-a', at: T0, roomId: 'x', peerId: 'pa', producerId: 'mic-a' });
    expect(broadcasts(speaker.effects)).toEqual([{ to: ['pa', 'pb'], type: 'room.speaker' }]);
  });

  it('media requests need a participant and a node', () => {
    expect(relayTarget(meeting(), carol)).toMatchObject({ ok: false, code: 'invalid_state' });
    expect(relayTarget(meeting(), alice)).toMatchObject({ ok: true, node: nodeA, participant: { peerId: 'pa' } });
  });
});

describe('room state: failover', () => {
  it('a failed node is left (reported, released, the recording interrupted) and not picked again; everyone migrates to the next', () => {
    const room = meeting();
    const recorded = recordingStarted(room, newRecording(room, nodeA, 'rec-1', { userId: 'alice', displayName: 'Alice' }, T0)).state;
    const lost = nodeLost(recorded, 'node-a', 'node-failed')!;
    expect(lost.state).toMatchObject({ node: null, producers: [], recording: null });
    expect(lost.exclude).toEqual(['node-a']);
    expect(kinds(lost.effects)).toEqual(['recording.end', 'broadcast room.recording', 'node.failed', 'node.release']);
    expect(lost.effects[0]).toMatchObject({ status: 'interrupted', node: nodeA });
    const moved = placed(lost.state, nodeB, 'node-failed');
    expect(moved.state.node).toEqual(nodeB);
    expect(moved.state.participants.map((p) => p.peerId)).toEqual(['pa', 'pb']);
    expect(moved.effects).toEqual([
      { kind: 'alarm' },
      {
        kind: 'broadcast',
        to: [
          { peerId: 'pa', userId: 'alice', deviceId: 'a1' },
          { peerId: 'pb', userId: 'bob', deviceId: 'b1' },
        ],
        message: { type: 'room.migrate', roomId: 'room-1', rtpCapabilities: nodeB.rtpCapabilities, reason: 'node-failed' },
      },
    ]);
  });

  it('a dead worker is the node’s own business: the node is not reported and may take the room again', () => {
    const lost = nodeLost(meeting(), 'node-a', 'worker-died')!;
    expect(lost.exclude).toEqual([]);
    expect(kinds(lost.effects)).toEqual(['node.release']);
  });

  it('no node available: everyone keeps their place, media requests get media_unavailable until the health check places the room', () => {
    const lost = nodeLost(meeting(), 'node-a', 'node-stale')!;
    const stranded = placed(lost.state, null, 'node-stale');
    expect(stranded.state.node).toBeNull();
    expect(stranded.state.participants).toHaveLength(2);
    expect(stranded.effects).toEqual([{ kind: 'alarm' }]);
    expect(relayTarget(stranded.state, alice)).toMatchObject({ ok: false, code: 'media_unavailable' });
    expect(roomDeadline(stranded.state, T0, 20_000)).toBe(T0 + 20_000);
  });

  it('a move from a node the room already left is ignored', () => {
    const moved = placed(nodeLost(meeting(), 'node-a', 'node-failed')!.state, nodeB, 'node-failed').state;
    expect(nodeLost(moved, 'node-a', 'node-failed')).toBeNull();
    expect(nodeLost(placed(moved, null, 'node-failed').state, 'node-a', 'node-failed')).toBeNull();
  });
});

describe('room state: recording', () => {
  it('starts only once something is published, on a node, and not twice', () => {
    const quiet = enter(placedRoom(), alice, 'pa');
    expect(mayBeginRecording(quiet)).toMatchObject({ ok: false, code: 'invalid_state', message: expect.stringMatching(/nothing is published/) });
    const room = meeting();
    expect(mayBeginRecording(room)).toEqual({ ok: true, node: nodeA });
    expect(mayBeginRecording({ ...room, node: null })).toMatchObject({ ok: false, code: 'media_unavailable' });
    const recording = newRecording(room, nodeA, 'rec-1', { userId: 'alice', displayName: 'Alice' }, T0 + 20);
    expect(recording.peers).toEqual({ pa: 'alice', pb: 'bob' });
    const started = recordingStarted(room, recording);
    expect(started.effects).toEqual([
      {
        kind: 'broadcast',
        to: [
          { peerId: 'pa', userId: 'alice', deviceId: 'a1' },
          { peerId: 'pb', userId: 'bob', deviceId: 'b1' },
        ],
        message: {
          type: 'room.recording',
          roomId: 'room-1',
          recording: { recordingId: 'rec-1', startedBy: { userId: 'alice', displayName: 'Alice' }, startedAt: T0 + 20 },
        },
      },
    ]);
    expect(mayBeginRecording(started.state)).toMatchObject({ ok: false, code: 'conflict' });
  });

  it('a joiner while recording becomes one of its participants and sees it in room.joined', () => {
    const room = meeting();
    const recorded = recordingStarted(room, newRecording(room, nodeA, 'rec-1', { userId: 'alice', displayName: 'Alice' }, T0)).state;
    const carolIn = joined(recorded, { peerId: 'pc', userId: 'carol', deviceId: 'c1', displayName: 'Carol', joinedAt: T0 + 30 }, nodeA, undefined);
    expect(carolIn.state.recording?.peers).toEqual({ pa: 'alice', pb: 'bob', pc: 'carol' });
    expect(carolIn.effects[0]).toEqual({ kind: 'recording.participant', recordingId: 'rec-1', userId: 'carol' });
    expect(carolIn.reply).toMatchObject({ recording: { recordingId: 'rec-1' } });
  });

  it('stops only a recording in progress, completed, and tells everyone', () => {
    const room = meeting();
    expect(stopRecording(room)).toMatchObject({ ok: false, code: 'invalid_state' });
    const recorded = recordingStarted(room, newRecording(room, nodeA, 'rec-1', { userId: 'alice', displayName: 'Alice' }, T0)).state;
    expect(stopRecording({ ...recorded, node: null })).toMatchObject({ ok: false, code: 'media_unavailable' });
    const stopped = ok(stopRecording(recorded));
    expect(stopped.state.recording).toBeNull();
    expect(kinds(stopped.effects)).toEqual(['recording.end', 'broadcast room.recording']);
    expect(stopped.effects[0]).toMatchObject({ status: 'completed' });
  });

  it('a recorded call’s room asks to record with its first producer, until the call ends', () => {
    const room = enter(placedRoom({}), alice, 'pa');
    const producer = { producerId: 'mic-a', peerId: 'pa', kind: 'audio', source: 'mic', paused: false } as const;
    expect(kinds(producerChanged(room, 'node-a', 'pa', { type: 'producer.created', producer }).effects)).toEqual(['recording.auto']);
    expect(shouldAutoRecord(room)).toBe(true);
    expect(shouldAutoRecord({ ...room, call: { ...room.call!, closed: true } })).toBe(false);
    expect(kinds(producerChanged(meeting(), 'node-a', 'pa', { type: 'producer.created', producer: { ...producer, producerId: 'x' } }).effects)).not.toContain(
      'recording.auto',
    );
  });
});

describe('room state: deadlines', () => {
  it('an occupied room checks its node; an empty one is forgotten a day after the last leave', () => {
    const left = ok(leave(enter(placedRoom(), alice, 'pa'), alice, T0 + 100)).state;
    expect(roomDeadline(left, T0 + 200, 20_000)).toBe(T0 + 100 + RETAIN_EMPTY_MS);
    expect(isForgotten(left, T0 + 100 + RETAIN_EMPTY_MS - 1)).toBe(false);
    expect(isForgotten(left, T0 + 100 + RETAIN_EMPTY_MS)).toBe(true);
    expect(isForgotten(meeting(), T0 + 2 * RETAIN_EMPTY_MS)).toBe(false);
  });
});

/**
 * Conference rooms over the signaling socket (`/api/signaling`). The edge relays between the
 * browser (mediasoup-client) and the room's media node; the browser never talks to the node's
 * control API. Every request carries `ref`; requests that return data are answered by the reply
 * named below (same `ref`) instead of `ack`; failures are `error` with a stable code.
 *
 * Flow: `room.create` → `room.created {roomId}` (any user of the tenant may then join; the id means
 * nothing to another tenant: `not_found`). `room.join` → `room.joined` with the router's RTP
 * capabilities (load them into the mediasoup-client Device), the others in the room and their
 * producers; everyone else gets `room.participant.joined`. Then:
 *
 * - `room.transport.create {direction: send|recv}` → `room.transport.created` (ICE/DTLS parameters);
 *   on the transport's `connect` event send `room.transport.connect {dtlsParameters}` (ack).
 * - `room.produce {kind, source: mic|camera|screen, rtpParameters}` → `room.produced {producerId}`;
 *   everyone else gets `room.producer.new`.
 * - On `room.producer.new` (and for each producer in `room.joined`): `room.consume {producerId,
 *   rtpCapabilities}` → `room.consumed` (the consumer starts paused); create the track, then
 *   `room.consumer.resume`.
 * - `room.producer.pause|resume|close`, `room.consumer.pause|resume`, `room.consumer.layers`
 *   (simulcast: spatial/temporal layer) → ack. Pausing or resuming a producer tells the others
 *   with `room.producer.paused`.
 * - The node's active speaker arrives as `room.speaker`; a producer that ends as
 *   `room.producer.closed` (drop its consumer).
 * - `room.migrate`: the room moved to another media node (the old one failed). Everything on the
 *   old node is gone: close the transports, load the new `rtpCapabilities`, create new
 *   transports, produce again and consume the producers announced after this message.
 * - `room.probe` (ack): the browser's media connection dropped; the edge asks the node at once
 *   instead of waiting for its health check. A node that does not answer is replaced (the reply
 *   is `media_unavailable` and `room.migrate` follows).
 * - `room.leave` (ack); the others get `room.participant.left`. A device whose socket closes
 *   leaves every room it was in.
 * - Recording (the room's creator, or roles with `recordings.manage`): `room.recording.start`
 *   (ack; `invalid_state` at once when nothing is published, `forbidden` for others) and
 *   `room.recording.stop` (ack). Everyone in the room, the starter included, gets
 *   `room.recording` with the recording or `null` when it ends (stopped, the room emptied or moved
 *   to another node); `room.joined` carries the current one and the room's `createdBy`. Show an
 *   indicator while it is set.
 * - A recorded 1:1 call's room (see `signaling.ts`) is created by the edge, not by `room.create`:
 *   only the call's two parties may join (`forbidden` for anyone else, `invalid_state` once the
 *   call has ended), and its recording starts by itself when the first producer appears.
 */
import * as v from 'valibot';
import { ShownName } from './api.ts';
import { Ref } from './frames.ts';
import { Id, MediaId } from './ids.ts';
import {
  ConsumerCreated,
  ConsumerLayers,
  MediaKind,
  ProducerSource,
  RtpCapabilities,
  RtpParameters,
  TransportConnect,
  TransportCreated,
  TransportDirection,
  TransportKind,
} from './mediaControl.ts';

const RoomRef = { ref: Ref, roomId: Id };

// ---- client -> edge ------------------------------------------------------------------------

const RoomCreate = v.object({ type: v.literal('room.create'), ref: Ref });
export const RoomJoin = v.object({ type: v.literal('room.join'), ...RoomRef });
const RoomLeave = v.object({ type: v.literal('room.leave'), ...RoomRef });
const RoomTransportCreate = v.object({
  type: v.literal('room.transport.create'),
  ...RoomRef,
  direction: TransportDirection,
  /** `plain` only works against a node started with MEDIA_PLAIN_TRANSPORTS=true (tests). */
  transport: TransportKind,
});
const RoomTransportConnect = v.object({
  type: v.literal('room.transport.connect'),
  ...RoomRef,
  transportId: MediaId,
  connect: TransportConnect,
});
const RoomProduce = v.object({
  type: v.literal('room.produce'),
  ...RoomRef,
  transportId: MediaId,
  kind: MediaKind,
  source: ProducerSource,
  rtpParameters: RtpParameters,
  paused: v.optional(v.boolean(), false),
});
const RoomProducerPause = v.object({ type: v.literal('room.producer.pause'), ...RoomRef, producerId: MediaId });
const RoomProducerResume = v.object({ type: v.literal('room.producer.resume'), ...RoomRef, producerId: MediaId });
const RoomProducerClose = v.object({ type: v.literal('room.producer.close'), ...RoomRef, producerId: MediaId });
const RoomConsume = v.object({
  type: v.literal('room.consume'),
  ...RoomRef,
  transportId: MediaId,
  producerId: MediaId,
  rtpCapabilities: RtpCapabilities,
});
const RoomConsumerPause = v.object({ type: v.literal('room.consumer.pause'), ...RoomRef, consumerId: MediaId });
const RoomConsumerResume = v.object({ type: v.literal('room.consumer.resume'), ...RoomRef, consumerId: MediaId });
const RoomRecordingStart = v.object({ type: v.literal('room.recording.start'), ...RoomRef });
const RoomRecordingStop = v.object({ type: v.literal('room.recording.stop'), ...RoomRef });
const RoomConsumerLayers = v.object({
  type: v.literal('room.consumer.layers'),
  ...RoomRef,
  consumerId: MediaId,
  ...ConsumerLayers,
});
/** Sent when the browser's transports lost the node: checks the node now (see the header). */
const RoomProbe = v.object({ type: v.literal('room.probe'), ...RoomRef });

/** Room requests on the signaling socket (part of `ClientMessage`). */
export const RoomClientMessages = [
  RoomCreate,
  RoomJoin,
  RoomLeave,
  RoomTransportCreate,
  RoomTransportConnect,
  RoomProduce,
  RoomProducerPause,
  RoomProducerResume,
  RoomProducerClose,
  RoomConsume,
  RoomConsumerPause,
  RoomConsumerResume,
  RoomConsumerLayers,
  RoomProbe,
  RoomRecordingStart,
  RoomRecordingStop,
] as const;

// ---- edge -> client ------------------------------------------------------------------------

export const RoomParticipant = v.object({ peerId: Id, userId: Id, displayName: ShownName });
export type RoomParticipant = v.InferOutput<typeof RoomParticipant>;

export const RoomProducerInfo = v.object({ producerId: MediaId, peerId: Id, kind: MediaKind, source: ProducerSource, paused: v.boolean() });
export type RoomProducerInfo = v.InferOutput<typeof RoomProducerInfo>;

/** The recording in progress: who started it and when (ms since the epoch). */
export const RoomRecordingInfo = v.object({
  recordingId: Id,
  startedBy: v.object({ userId: Id, displayName: ShownName }),
  startedAt: v.number(),
});
export type RoomRecordingInfo = v.InferOutput<typeof RoomRecordingInfo>;

const RoomCreatedMessage = v.object({ type: v.literal('room.created'), ...RoomRef });
const RoomJoined = v.object({
  type: v.literal('room.joined'),
  ...RoomRef,
  /** This device's participant id in the room. */
  peerId: Id,
  rtpCapabilities: RtpCapabilities,
  /** The others already in the room, and what they send. */
  participants: v.array(RoomParticipant),
  producers: v.array(RoomProducerInfo),
  /** The room's creator (user id): the view offers them the Record button (the edge decides). */
  createdBy: v.optional(Id),
  /** The recording in progress, if any (absent from edges older than recording). */
  recording: v.optional(v.nullable(RoomRecordingInfo)),
});
const RoomTransportCreated = v.object({ type: v.literal('room.transport.created'), ...RoomRef, transport: TransportCreated });
const RoomProduced = v.object({ type: v.literal('room.produced'), ...RoomRef, producerId: MediaId });
const RoomConsumed = v.object({ type: v.literal('room.consumed'), ...RoomRef, consumer: ConsumerCreated });
const RoomParticipantJoined = v.object({ type: v.literal('room.participant.joined'), roomId: Id, participant: RoomParticipant });
const RoomParticipantLeft = v.object({ type: v.literal('room.participant.left'), roomId: Id, peerId: Id });
const RoomProducerNew = v.object({ type: v.literal('room.producer.new'), roomId: Id, producer: RoomProducerInfo });
const RoomProducerPaused = v.object({ type: v.literal('room.producer.paused'), roomId: Id, producerId: MediaId, peerId: Id, paused: v.boolean() });
const RoomProducerClosed = v.object({ type: v.literal('room.producer.closed'), roomId: Id, producerId: MediaId, peerId: Id });
const RoomSpeaker = v.object({ type: v.literal('room.speaker'), roomId: Id, peerId: v.nullable(Id) });
/** Recording started (`recording` set) or ended (`null`): sent to everyone in the room. */
const RoomRecording = v.object({ type: v.literal('room.recording'), roomId: Id, recording: v.nullable(RoomRecordingInfo) });
const RoomMigrate = v.object({
  type: v.literal('room.migrate'),
  roomId: Id,
  /** The new router's capabilities: reload the Device, then rebuild transports and produce again. */
  rtpCapabilities: RtpCapabilities,
  reason: v.picklist(['node-failed', 'node-stale', 'worker-died']),
});

/** Room messages the edge sends (part of `ServerMessage`). */
export const RoomServerMessages = [
  RoomCreatedMessage,
  RoomJoined,
  RoomTransportCreated,
  RoomProduced,
  RoomConsumed,
  RoomParticipantJoined,
  RoomParticipantLeft,
  RoomProducerNew,
  RoomProducerPaused,
  RoomProducerClosed,
  RoomSpeaker,
  RoomMigrate,
  RoomRecording,
] as const;

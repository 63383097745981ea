/**
 * The media-fleet control API (edge -> media node, HTTP on 8443) and the node's events
 * (media node -> edge, `POST {EDGE_URL}/api/fleet/events`).
 *
 * `CONTROL_API` is the whole API, one entry per request type: the request's schema (one variant
 * of `ControlRequest`, discriminated on `type`), its HTTP form (the method, a path whose `:params`
 * are fields of the request, and a JSON body holding the remaining fields) and the response's
 * schema. The edge builds a request with `toControlHttp` and checks the answer with the response
 * schema; the node matches the path with `matchControlRoute`, merges path params and body, and
 * validates the result with `ControlRequest`. Both directions are signed with `controlSignature.ts`.
 *
 * mediasoup's own types stay out of this package: RTP capabilities/parameters and DTLS/ICE
 * parameters are checked as objects with the fields the node relies on, and passed through.
 */
import * as v from 'valibot';
import { ErrorCode } from './errors.ts';
import { Id, MediaId, Port } from './ids.ts';
import { isWellFormedDeep, Verbatim, WellFormedString } from './text.ts';

/** Largest control request body the node reads (SDP-derived RTP parameters stay far below). */
export const MAX_CONTROL_BODY_BYTES = 256 * 1024;

// ---- opaque mediasoup shapes (validated as objects, passed through) --------------------------

/** A mediasoup object: the named fields checked, the rest passed through, but no string in it (keys too) with a NUL or a lone surrogate. */
function opaque<const Entries extends v.ObjectEntries>(entries: Entries) {
  return v.pipe(
    v.looseObject(entries),
    v.check<v.InferOutput<v.LooseObjectSchema<Entries, undefined>>, string>(isWellFormedDeep, 'contains a NUL or an unpaired surrogate'),
  );
}

const Codec = v.looseObject({
  mimeType: v.pipe(v.string(), v.regex(/^(audio|video)\/[A-Za-z0-9.+-]+$/)),
  clockRate: v.pipe(v.number(), v.integer(), v.minValue(1)),
});
export const RtpCapabilities = opaque({
  codecs: v.pipe(v.array(v.looseObject({ ...Codec.entries, kind: v.picklist(['audio', 'video']) })), v.maxLength(64)),
  headerExtensions: v.optional(v.pipe(v.array(v.looseObject({ uri: v.string() })), v.maxLength(64))),
});
export type RtpCapabilities = v.InferOutput<typeof RtpCapabilities>;

export const RtpParameters = opaque({
  codecs: v.pipe(
    v.array(v.looseObject({ ...Codec.entries, payloadType: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(127)) })),
    v.minLength(1),
    v.maxLength(32),
  ),
  encodings: v.optional(v.pipe(v.array(v.looseObject({})), v.maxLength(8))),
  headerExtensions: v.optional(v.pipe(v.array(v.looseObject({ uri: v.string(), id: v.number() })), v.maxLength(32))),
});
export type RtpParameters = v.InferOutput<typeof RtpParameters>;

const DtlsParameters = opaque({
  role: v.optional(v.picklist(['auto', 'client', 'server'])),
  fingerprints: v.pipe(
    v.array(v.object({ algorithm: v.pipe(v.string(), v.maxLength(16)), value: v.pipe(v.string(), v.maxLength(256)) })),
    v.minLength(1),
    v.maxLength(8),
  ),
});

const IceParameters = opaque({ usernameFragment: v.string(), password: v.string() });
const MediaIceCandidate = opaque({
  foundation: v.string(),
  priority: v.number(),
  ip: v.string(),
  protocol: v.picklist(['udp', 'tcp']),
  port: Port,
  type: v.string(),
});

// ---- requests (edge -> node) ---------------------------------------------------------------

export const MediaKind = v.picklist(['audio', 'video']);
export type MediaKind = v.InferOutput<typeof MediaKind>;
/** What a producer carries; screen share is a second video producer with source `screen`. */
export const ProducerSource = v.picklist(['mic', 'camera', 'screen']);
export type ProducerSource = v.InferOutput<typeof ProducerSource>;
export const TransportDirection = v.picklist(['send', 'recv']);
export type TransportDirection = v.InferOutput<typeof TransportDirection>;
/**
 * `webrtc` (browsers) unless the node runs with MEDIA_PLAIN_TRANSPORTS=true: `plain` is
 * unencrypted RTP without ICE/DTLS, for tests and the benchmark only.
 */
export const TransportKind = v.optional(v.picklist(['webrtc', 'plain']), 'webrtc');
/** `dtls` for a WebRTC transport; `plain` names where a plain recv transport sends RTP. */
export const TransportConnect = v.variant('transport', [
  v.object({ transport: v.literal('webrtc'), dtlsParameters: DtlsParameters }),
  v.object({ transport: v.literal('plain'), ip: v.pipe(v.string(), v.ip()), port: Port }),
]);
/** Simulcast/SVC layers a consumer receives. */
export const ConsumerLayers = {
  spatialLayer: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3)),
  temporalLayer: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3))),
};

const RoomRef = { roomId: Id };
const PeerRef = { roomId: Id, peerId: Id };

const CreateRoom = v.object({ type: v.literal('room.create'), ...RoomRef });
const CloseRoom = v.object({ type: v.literal('room.close'), ...RoomRef });
const JoinPeer = v.object({ type: v.literal('peer.join'), ...PeerRef });
const LeavePeer = v.object({ type: v.literal('peer.leave'), ...PeerRef });
const CreateTransport = v.object({
  type: v.literal('transport.create'),
  ...PeerRef,
  direction: TransportDirection,
  transport: TransportKind,
});
const ConnectTransport = v.object({
  type: v.literal('transport.connect'),
  ...PeerRef,
  transportId: MediaId,
  connect: TransportConnect,
});
const Produce = v.object({
  type: v.literal('producer.create'),
  ...PeerRef,
  transportId: MediaId,
  kind: MediaKind,
  source: ProducerSource,
  rtpParameters: RtpParameters,
  paused: v.optional(v.boolean(), false),
});
const PauseProducer = v.object({ type: v.literal('producer.pause'), ...PeerRef, producerId: MediaId });
const ResumeProducer = v.object({ type: v.literal('producer.resume'), ...PeerRef, producerId: MediaId });
const CloseProducer = v.object({ type: v.literal('producer.close'), ...PeerRef, producerId: MediaId });
const Consume = v.object({
  type: v.literal('consumer.create'),
  ...PeerRef,
  transportId: MediaId,
  producerId: MediaId,
  rtpCapabilities: RtpCapabilities,
});
const PauseConsumer = v.object({ type: v.literal('consumer.pause'), ...PeerRef, consumerId: MediaId });
const ResumeConsumer = v.object({ type: v.literal('consumer.resume'), ...PeerRef, consumerId: MediaId });
const SetConsumerLayers = v.object({
  type: v.literal('consumer.layers'),
  ...PeerRef,
  consumerId: MediaId,
  ...ConsumerLayers,
});
/** Records every producer of the room (present and future) into one file per track. */
const StartRecording = v.object({ type: v.literal('recording.start'), ...RoomRef, recordingId: Id });
/** Ends the recording: files are finished, measured (and uploaded when the node stores to S3). */
const StopRecording = v.object({ type: v.literal('recording.stop'), ...RoomRef, recordingId: Id });
const DrainNode = v.object({ type: v.literal('node.drain') });
const GetNodeStatus = v.object({ type: v.literal('node.status') });

// ---- responses (node -> edge) --------------------------------------------------------------

const RoomCreated = v.object({ roomId: Id, rtpCapabilities: RtpCapabilities });

const PeerJoined = v.object({ roomId: Id, peerId: Id, rtpCapabilities: RtpCapabilities });

export const TransportCreated = v.variant('transport', [
  v.object({
    transport: v.literal('webrtc'),
    transportId: MediaId,
    direction: TransportDirection,
    iceParameters: IceParameters,
    iceCandidates: v.array(MediaIceCandidate),
    dtlsParameters: DtlsParameters,
  }),
  v.object({ transport: v.literal('plain'), transportId: MediaId, direction: TransportDirection, ip: WellFormedString, port: Port }),
]);
export type TransportCreated = v.InferOutput<typeof TransportCreated>;

const ProducerCreated = v.object({ producerId: MediaId });

export const ConsumerCreated = v.object({
  consumerId: MediaId,
  producerId: MediaId,
  /** The producing peer, so the edge can tell the browser whose track this is. */
  producerPeerId: Id,
  kind: MediaKind,
  source: ProducerSource,
  rtpParameters: RtpParameters,
  /** `simulcast` consumers accept `consumer.layers`. */
  consumerType: v.picklist(['simple', 'simulcast', 'svc', 'pipe']),
  /** Consumers start paused: resume once the browser has set up its track. */
  paused: v.boolean(),
  producerPaused: v.boolean(),
});
export type ConsumerCreated = v.InferOutput<typeof ConsumerCreated>;

const ControlOk = v.object({ ok: v.literal(true) });

export const WorkerLoad = v.object({
  pid: v.number(),
  routers: v.number(),
  transports: v.number(),
  producers: v.number(),
  consumers: v.number(),
});
export type WorkerLoad = v.InferOutput<typeof WorkerLoad>;

/** `GET /control/status`: what the node agent drains and scales on (see infra-cdk/README). */
export const NodeStatus = v.object({
  draining: v.boolean(),
  /** True when draining and nothing is left: the agent may let the instance go. */
  drained: v.boolean(),
  rooms: v.number(),
  peers: v.number(),
  transports: v.number(),
  producers: v.number(),
  consumers: v.number(),
  /** Number of mediasoup workers (one per core): the agent divides consumers by it. */
  workers: v.number(),
  consumerBudgetPerWorker: v.number(),
  workerLoad: v.array(WorkerLoad),
});
export type NodeStatus = v.InferOutput<typeof NodeStatus>;

const RecordingStarted = v.object({
  recordingId: Id,
  startedAt: v.number(),
  /** Producers being recorded right now (new ones join while it runs). */
  tracks: v.number(),
});

/** Where a finished track file is: on the node's disk (fetch it with `recordingFilePath`) or in S3. */
export const RecordingStorage = v.picklist(['local', 's3']);
export type RecordingStorage = v.InferOutput<typeof RecordingStorage>;

/** `<trackId>.<ext>`: the only file names the node serves. */
const RecordingFileName = v.pipe(v.string(), v.regex(/^[0-9a-f-]{36}\.(webm|ogg|mkv)$/));

export const RecordedTrack = v.object({
  trackId: MediaId,
  producerId: MediaId,
  peerId: Id,
  kind: MediaKind,
  source: ProducerSource,
  /** The producer's codec, e.g. `audio/opus`, `video/VP8` (copied, never re-encoded). */
  codec: WellFormedString,
  fileName: RecordingFileName,
  storage: RecordingStorage,
  /** `<recordingId>/<fileName>`: the S3 object key, or the path under MEDIA_RECORDINGS_DIR. */
  key: WellFormedString,
  startedAt: v.number(),
  endedAt: v.number(),
  sizeBytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** From ffprobe; 0 when the track received no media. */
  durationMs: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
export type RecordedTrack = v.InferOutput<typeof RecordedTrack>;

export const RecordingStopped = v.object({
  recordingId: Id,
  startedAt: v.number(),
  endedAt: v.number(),
  /** `room-closed`: the room closed (worker died, node shut down) before `recording.stop`. */
  reason: v.picklist(['stopped', 'room-closed']),
  tracks: v.array(RecordedTrack),
});
export type RecordingStopped = v.InferOutput<typeof RecordingStopped>;

/**
 * A finished local file, `/control/recordings/:recordingId/files/:fileName`: `GET` it, signed like
 * every control request; the answer is the file's bytes (`content-type` by extension), or a JSON
 * error (404 when unknown).
 */
export function recordingFilePath(recordingId: string, fileName: string): string {
  return `/control/recordings/${encodeURIComponent(recordingId)}/files/${encodeURIComponent(fileName)}`;
}

/** The recording and file named by a path, when it is a valid `recordingFilePath`. */
export function matchRecordingFilePath(path: string): { recordingId: string; fileName: string } | null {
  const match = /^\/control\/recordings\/([^/]+)\/files\/([^/]+)$/.exec(path);
  if (!match) return null;
  const recordingId = decodeURIComponent(match[1]!);
  const fileName = decodeURIComponent(match[2]!);
  return v.is(Id, recordingId) && v.is(RecordingFileName, fileName) ? { recordingId, fileName } : null;
}

// ---- the control API: request, HTTP form and response of each request type -----------------

const PEER = '/control/rooms/:roomId/peers/:peerId';

interface ControlEndpoint<T extends string> {
  request: v.GenericSchema<unknown, { type: T }>;
  method: 'GET' | 'POST' | 'DELETE';
  /** `:params` are fields of the request; the other fields travel in the JSON body (POST only). */
  path: string;
  response: v.GenericSchema;
}

/** Checks that each entry's key is its request's `type`, keeping the literal types. */
function controlApi<const Api extends { [T in keyof Api & string]: ControlEndpoint<T> }>(api: Api): Api {
  return api;
}

/** The one description of the control API: the edge sends and checks answers with it, the node routes and answers with it. */
export const CONTROL_API = controlApi({
  'room.create': { request: CreateRoom, method: 'POST', path: '/control/rooms', response: RoomCreated },
  'room.close': { request: CloseRoom, method: 'DELETE', path: '/control/rooms/:roomId', response: ControlOk },
  'peer.join': { request: JoinPeer, method: 'POST', path: '/control/rooms/:roomId/peers', response: PeerJoined },
  'peer.leave': { request: LeavePeer, method: 'DELETE', path: PEER, response: ControlOk },
  'transport.create': { request: CreateTransport, method: 'POST', path: `${PEER}/transports`, response: TransportCreated },
  'transport.connect': { request: ConnectTransport, method: 'POST', path: `${PEER}/transports/:transportId/connect`, response: ControlOk },
  'producer.create': { request: Produce, method: 'POST', path: `${PEER}/produce`, response: ProducerCreated },
  'producer.pause': { request: PauseProducer, method: 'POST', path: `${PEER}/producers/:producerId/pause`, response: ControlOk },
  'producer.resume': { request: ResumeProducer, method: 'POST', path: `${PEER}/producers/:producerId/resume`, response: ControlOk },
  'producer.close': { request: CloseProducer, method: 'DELETE', path: `${PEER}/producers/:producerId`, response: ControlOk },
  'consumer.create': { request: Consume, method: 'POST', path: `${PEER}/consume`, response: ConsumerCreated },
  'consumer.pause': { request: PauseConsumer, method: 'POST', path: `${PEER}/consumers/:consumerId/pause`, response: ControlOk },
  'consumer.resume': { request: ResumeConsumer, method: 'POST', path: `${PEER}/consumers/:consumerId/resume`, response: ControlOk },
  'consumer.layers': { request: SetConsumerLayers, method: 'POST', path: `${PEER}/consumers/:consumerId/layers`, response: ControlOk },
  'recording.start': { request: StartRecording, method: 'POST', path: '/control/rooms/:roomId/recordings', response: RecordingStarted },
  'recording.stop': { request: StopRecording, method: 'POST', path: '/control/rooms/:roomId/recordings/:recordingId/stop', response: RecordingStopped },
  'node.drain': { request: DrainNode, method: 'POST', path: '/control/drain', response: NodeStatus },
  'node.status': { request: GetNodeStatus, method: 'GET', path: '/control/status', response: NodeStatus },
});

export type ControlRequestType = keyof typeof CONTROL_API;
export const ControlRequest = v.variant(
  'type',
  Object.values(CONTROL_API).map((endpoint) => endpoint.request),
);
export type ControlRequest = v.InferOutput<typeof ControlRequest>;
/** What the edge passes to `toControlHttp` (fields with defaults may be left out). */
export type ControlRequestInput = v.InferInput<typeof ControlRequest>;
/** The request of one type, as the node's handler for it receives it. */
export type ControlRequestOf<T extends ControlRequestType> = v.InferOutput<(typeof CONTROL_API)[T]['request']>;
/** The response body of each request type. */
export type ControlResponses = { [T in ControlRequestType]: v.InferOutput<(typeof CONTROL_API)[T]['response']> };

/** Method, path and JSON body (null for GET/DELETE) of a request, as the edge sends it. */
export function toControlHttp(request: ControlRequestInput): { method: string; path: string; body: string | null } {
  const endpoint = CONTROL_API[request.type];
  const rest: Record<string, unknown> = { ...request };
  delete rest.type;
  const path = endpoint.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  return { method: endpoint.method, path, body: endpoint.method === 'POST' ? JSON.stringify(rest) : null };
}

/** Compiled once: each endpoint's path as a regex whose groups are its params. */
const MATCHERS = Object.entries(CONTROL_API).map(([type, endpoint]) => {
  const names: string[] = [];
  const pattern = endpoint.path.replace(/:(\w+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { type: type as ControlRequestType, method: endpoint.method, regex: new RegExp(`^${pattern}$`), names };
});

export type RouteMatch = { ok: true; type: ControlRequestType; params: Record<string, string> } | { ok: false; reason: 'not_found' | 'method_not_allowed' };

/** The request type and path params for a method and path (the node's side of `toControlHttp`). */
export function matchControlRoute(method: string, path: string): RouteMatch {
  let pathMatched = false;
  for (const matcher of MATCHERS) {
    const groups = matcher.regex.exec(path);
    if (!groups) continue;
    pathMatched = true;
    if (matcher.method !== method) continue;
    const params: Record<string, string> = {};
    matcher.names.forEach((name, i) => {
      params[name] = decodeURIComponent(groups[i + 1]!);
    });
    return { ok: true, type: matcher.type, params };
  }
  return { ok: false, reason: pathMatched ? 'method_not_allowed' : 'not_found' };
}

// ---- errors --------------------------------------------------------------------------------

/** Stable codes of control API errors (body `{error: {code, message}}`, never a stack trace). */
export const MediaErrorCode = {
  badRequest: ErrorCode.badRequest,
  payloadTooLarge: 'payload_too_large',
  /** Signature header missing, malformed or not matching. */
  unauthorized: ErrorCode.unauthorized,
  /** Timestamp more than `CONTROL_SIGNATURE_MAX_SKEW_SECONDS` away from the node's clock. */
  signatureExpired: ErrorCode.signatureExpired,
  /** A nonce seen before within the skew window. */
  replayed: 'replayed',
  notFound: ErrorCode.notFound,
  methodNotAllowed: 'method_not_allowed',
  conflict: ErrorCode.conflict,
  invalidState: ErrorCode.invalidState,
  /** The consumer's RTP capabilities cannot receive the producer's codec. */
  cannotConsume: 'cannot_consume',
  /** The node is draining: it keeps its rooms and takes no new ones. */
  draining: 'draining',
  internal: ErrorCode.internal,
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

export const mediaHttpStatusOf: Record<MediaErrorCode, number> = {
  bad_request: 400,
  payload_too_large: 413,
  unauthorized: 401,
  signature_expired: 401,
  replayed: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  invalid_state: 409,
  cannot_consume: 422,
  draining: 503,
  internal: 500,
};

export const MediaErrorBody = v.object({
  error: v.object({ code: v.picklist(Object.values(MediaErrorCode)), message: WellFormedString }),
});
export type MediaErrorBody = v.InferOutput<typeof MediaErrorBody>;

// ---- events (node -> edge, POST {EDGE_URL}/api/fleet/events, signed) -------------------------

const EventBase = {
  /** The node's id (MEDIA_NODE_ID, by default its host name). */
  nodeId: Verbatim({ min: 1, max: 128 }),
  /** Milliseconds since the epoch when the node emitted the event. */
  at: v.number(),
};

const ActiveSpeakerChanged = v.object({
  type: v.literal('speaker.changed'),
  ...EventBase,
  roomId: Id,
  /** null when everybody is silent. */
  peerId: v.nullable(Id),
  producerId: v.nullable(MediaId),
});
const ProducerClosed = v.object({
  type: v.literal('producer.closed'),
  ...EventBase,
  roomId: Id,
  peerId: Id,
  producerId: MediaId,
  /** Its consumers are closed with it: the edge tells their browsers to drop the track. */
  reason: v.picklist(['closed', 'peer-left', 'transport-closed']),
});
const WorkerDied = v.object({
  type: v.literal('worker.died'),
  ...EventBase,
  workerPid: v.number(),
  /** Rooms closed because they had a router on that worker; the edge re-creates them. */
  roomIds: v.array(Id),
  /** Whether a replacement worker was started. */
  replaced: v.boolean(),
});
const RoomEmpty = v.object({ type: v.literal('room.empty'), ...EventBase, roomId: Id });

export const MediaNodeEvent = v.variant('type', [ActiveSpeakerChanged, ProducerClosed, WorkerDied, RoomEmpty]);
export type MediaNodeEvent = v.InferOutput<typeof MediaNodeEvent>;

/** The path events are POSTed to on the edge. */
export const MEDIA_EVENTS_PATH = '/api/fleet/events';

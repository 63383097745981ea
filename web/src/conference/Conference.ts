/**
 * A conference room in the browser: the room protocol (protocol/src/rooms.ts) over the signaling
 * socket, media through a mediasoup-client Device (one send and one recv transport). No DOM here:
 * the view reports each tile's width and visibility (`viewTile`) and renders `state`.
 *
 * After `room.migrate` (the media node died) or a signaling reconnect (the edge drops a device whose
 * socket closed) everything media is rebuilt: a new Device, new transports, the same producers
 * in the same mute state, consumers for what is announced afterwards. Each rebuild is an `epoch`;
 * work of an older epoch that finishes late is dropped.
 *
 * A `QualityMonitor` reports the current transports' stats (room scope) every 5 s for the whole
 * stay, across rebuilds; the edge's rating lands in `state.quality`.
 */
import { Emitter, assertNever, type ProducerSource, type RtpCapabilities } from '@callstack/protocol';
import { Device, type types } from 'mediasoup-client';
import { QualityMonitor } from '../quality.ts';
import type { RoomMessage, SignalingStatus } from '../signaling.ts';
import type { ConferenceOptions, ConferenceStats, InboundStats, OutboundStats } from './ConferenceTypes.ts';
import { RoomRequestError, roomErrorMessage } from './errors.ts';
import { CAMERA_CONSTRAINTS, CAMERA_ENCODINGS, preferredSpatialLayer, spatialLayersOf, type TileView } from './layers.ts';
import { RoomRequests } from './RoomRequests.ts';
import { initialConference, roomReducer, type ConferenceState, type RemoteMedia } from './roomState.ts';
import { StallDetector } from './StallDetector.ts';

const SCREEN_CONSTRAINTS = { frameRate: { ideal: 10, max: 15 } } as const;
/** How long a transport may stay disconnected before the edge is asked to check the node. */
export const PROBE_AFTER_MS = 1_500;
/** Between further checks while the transport stays down. */
export const PROBE_EVERY_MS = 3_000;
/**
 * How often the transports' received bytes are sampled. ICE takes 5 s or more to call a dead
 * node `disconnected`; bytes stop at once (media, RTCP, transport-cc feedback).
 */
export const WATCHDOG_INTERVAL_MS = 1_000;

type LocalSource = ProducerSource;

interface Media {
  epoch: number;
  device: Device;
  send: types.Transport;
  recv: types.Transport;
  stalls: { send: StallDetector; recv: StallDetector };
}

/** One room for one device; emits `change` after every state or media change. */
export class Conference extends Emitter<{ change: [] }> {
  state: ConferenceState;
  /** Our camera and microphone (kept across rebuilds), and our screen while sharing. */
  localStream: MediaStream | null = null;
  screenStream: MediaStream | null = null;

  private readonly requests: RoomRequests;
  private readonly unsubscribe: (() => void)[];
  private epoch = 0;
  private media: Promise<Media | null> | null = null;
  private current: Media | null = null;
  private readonly producers = new Map<LocalSource, types.Producer>();
  private readonly consumers = new Map<string, types.Consumer>();
  private readonly views = new Map<string, TileView>();
  private localMedia: Promise<void> | null = null;
  /** `<epoch>:<producer id or source>` of consume and produce calls under way (no duplicates). */
  private readonly inFlight = new Set<string>();
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly watchdog: ReturnType<typeof setInterval>;
  private lastProbeAt = 0;
  private readonly quality: QualityMonitor;
  /** The notice the last refused recording request left. */
  private recordingRefusal: string | null = null;

  constructor(
    roomId: string,
    private readonly options: ConferenceOptions,
  ) {
    super();
    this.state = initialConference(roomId);
    this.requests = new RoomRequests(options.signaling);
    this.unsubscribe = [
      options.signaling.on('room', (message) => this.onRoomMessage(message)),
      options.signaling.on('hello', () => this.onReconnected()),
      options.signaling.on('status', (status) => this.onStatus(status)),
    ];
    this.watchdog = setInterval(() => void this.checkTransports(), WATCHDOG_INTERVAL_MS);
    this.quality = new QualityMonitor({
      signaling: options.signaling,
      scope: { kind: 'room', roomId },
      // Read at each sample: the transports of the current epoch (none while rebuilding).
      sources: () => (this.current ? [this.current.send, this.current.recv].filter((transport) => !transport.closed) : []),
    });
    this.quality.on('update', (quality) => this.update({ quality }));
  }

  /** Opens camera and microphone, joins, and starts sending and receiving. */
  async join(): Promise<void> {
    if (this.state.phase !== 'idle') return;
    this.update({ phase: 'joining' });
    this.localMedia = this.openLocalMedia();
    await this.localMedia;
    await this.enter();
  }

  async leave(): Promise<void> {
    if (this.state.phase === 'left') return;
    const wasIn = this.state.peerId !== null;
    this.teardown();
    this.stopLocal();
    this.update({ phase: 'left', media: [], participants: [], sharing: false });
    if (wasIn) await this.requests.send({ type: 'room.leave', roomId: this.state.roomId }, 'ack').catch(() => undefined);
    this.dispose();
  }

  setMic(on: boolean): void {
    this.setProducerPaused('mic', !on);
    this.update({ micOn: on });
  }

  setCamera(on: boolean): void {
    this.setProducerPaused('camera', !on);
    this.update({ cameraOn: on });
  }

  async startScreenShare(): Promise<void> {
    if (this.state.sharing) return;
    const getDisplayMedia = this.options.getDisplayMedia ?? ((o) => navigator.mediaDevices.getDisplayMedia(o));
    let stream: MediaStream;
    try {
      stream = await getDisplayMedia({ video: SCREEN_CONSTRAINTS, audio: false });
    } catch (error) {
      // Cancelling the browser's picker is a choice, not a failure.
      const cancelled = error instanceof DOMException && error.name === 'NotAllowedError';
      this.update({ notice: cancelled ? null : 'Screen sharing is not available in this browser.' });
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track || this.state.phase === 'left') {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener('ended', () => void this.stopScreenShare());
    this.screenStream = stream;
    this.update({ sharing: true });
    const media = await this.media;
    if (media && media.epoch === this.epoch) await this.produce(media, 'screen');
  }

  /** `force`: close a screen producer that appeared after sharing stopped. */
  async stopScreenShare(force = false): Promise<void> {
    if (!this.state.sharing && !force) return;
    for (const track of this.screenStream?.getTracks() ?? []) track.stop();
    this.screenStream = null;
    this.update({ sharing: false });
    const producer = this.producers.get('screen');
    this.producers.delete('screen');
    if (!producer) return;
    producer.close();
    await this.requests
      .send({ type: 'room.producer.close', roomId: this.state.roomId, producerId: producer.id }, 'ack')
      .catch((error: unknown) => console.warn('conference: closing the screen share', error));
  }

  /**
   * The view reports how a producer's tile is shown: hidden tiles' consumers pause, visible ones
   * get the simulcast layer their width needs.
   */
  viewTile(producerId: string, view: TileView): void {
    this.views.set(producerId, view);
    void this.applyView(producerId);
  }

  /**
   * Starts or stops recording the room. The edge decides who may (`forbidden`) and refuses an
   * empty room (`invalid_state`): a refusal lands in `state.notice`. The indicator follows the
   * `room.recording` everyone gets, not this request's answer.
   */
  async setRecording(on: boolean): Promise<void> {
    try {
      await this.requests.send({ type: on ? 'room.recording.start' : 'room.recording.stop', roomId: this.state.roomId }, 'ack');
      // A refusal said earlier no longer holds; other notices (no camera…) stay.
      if (this.state.notice !== null && this.state.notice === this.recordingRefusal) this.update({ notice: null });
    } catch (error) {
      this.recordingRefusal = roomErrorMessage(error);
      this.update({ notice: this.recordingRefusal });
    }
  }

  /** Per-consumer and per-producer figures (the e2e tests read them; a quality badge may too). */
  async stats(): Promise<ConferenceStats> {
    const inbound: InboundStats[] = [];
    for (const item of this.state.media) {
      const consumer = item.consumerId ? this.consumers.get(item.consumerId) : undefined;
      if (!consumer || consumer.closed) continue;
      const report = await consumer.getStats();
      report.forEach((entry: Record<string, unknown>) => {
        if (entry.type !== 'inbound-rtp') return;
        inbound.push({
          peerId: item.peerId,
          source: item.source,
          kind: item.kind,
          consumerId: consumer.id,
          paused: item.consumerPaused,
          packetsReceived: Number(entry.packetsReceived ?? 0),
          framesDecoded: Number(entry.framesDecoded ?? 0),
          frameWidth: Number(entry.frameWidth ?? 0),
          frameHeight: Number(entry.frameHeight ?? 0),
        });
      });
    }
    const outbound: OutboundStats[] = [];
    for (const [source, producer] of this.producers) {
      if (producer.closed) continue;
      const report = await producer.getStats();
      report.forEach((entry: Record<string, unknown>) => {
        if (entry.type !== 'outbound-rtp') return;
        outbound.push({
          source,
          kind: producer.kind,
          rid: typeof entry.rid === 'string' ? entry.rid : null,
          packetsSent: Number(entry.packetsSent ?? 0),
          frameWidth: Number(entry.frameWidth ?? 0),
          frameHeight: Number(entry.frameHeight ?? 0),
          framesPerSecond: Number(entry.framesPerSecond ?? 0),
        });
      });
    }
    const media = this.current;
    return {
      peerId: this.state.peerId,
      phase: this.state.phase,
      migrations: this.state.migrations,
      transports: { send: media?.send.connectionState ?? null, recv: media?.recv.connectionState ?? null },
      inbound,
      outbound,
    };
  }

  dispose(): void {
    clearTimeout(this.probeTimer);
    clearInterval(this.watchdog);
    this.quality.stop();
    for (const off of this.unsubscribe) off();
    this.requests.dispose();
  }

  // ---- joining and rebuilding ----------------------------------------------------------------

  /** `room.join`, then media on the node the reply names. */
  private async enter(): Promise<void> {
    try {
      const joined = await this.requests.send({ type: 'room.join', roomId: this.state.roomId }, 'room.joined');
      if (this.state.phase === 'left') return;
      this.teardown();
      this.state = roomReducer(this.state, joined);
      this.emit('change');
      this.rebuild(joined.rtpCapabilities);
    } catch (error) {
      if (this.state.phase === 'left') return;
      // Offline: the `hello` of the next connection joins again.
      if (error instanceof RoomRequestError && error.code === 'offline') this.update({ phase: 'reconnecting' });
      else this.update({ phase: 'failed', error: roomErrorMessage(error) });
    }
  }

  private onRoomMessage(message: RoomMessage): void {
    if (message.roomId !== this.state.roomId || this.state.phase === 'left' || this.state.phase === 'idle') return;
    switch (message.type) {
      case 'room.created':
      case 'room.joined':
      case 'room.transport.created':
      case 'room.produced':
      case 'room.consumed':
        // Replies: their request's caller handles them.
        return;
      case 'room.participant.left':
        for (const item of this.state.media) if (item.peerId === message.peerId) this.dropConsumer(item);
        break;
      case 'room.producer.closed': {
        const item = this.state.media.find((m) => m.producerId === message.producerId);
        if (item) this.dropConsumer(item);
        break;
      }
      case 'room.migrate':
        this.teardown();
        break;
      default:
        break;
    }
    const next = roomReducer(this.state, message);
    if (next === this.state) return;
    this.state = next;
    this.emit('change');
    if (message.type === 'room.producer.new' && message.producer.peerId !== this.state.peerId) void this.consume(message.producer.producerId);
    if (message.type === 'room.migrate') this.rebuild(message.rtpCapabilities);
  }

  /** A new connection after a drop: the edge made us leave, so join again. */
  private onReconnected(): void {
    if (this.state.phase === 'joined' || this.state.phase === 'reconnecting') {
      this.teardown();
      void this.enter();
    }
  }

  private onStatus(status: SignalingStatus): void {
    if (status !== 'online' && this.state.phase === 'joined') this.update({ phase: 'reconnecting' });
  }

  /** Closes everything of the current epoch (producers and consumers go with their transports). */
  private teardown(): void {
    this.epoch++;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.current?.send.close();
    this.current?.recv.close();
    this.current = null;
    this.media = null;
    this.producers.clear();
    this.consumers.clear();
    this.state = { ...this.state, media: this.state.media.map((m) => ({ ...m, consumerId: null, track: null, consumerPaused: false, spatialLayer: null })) };
  }

  /** Device, transports, our producers, and consumers of what `state.media` lists. */
  private rebuild(rtpCapabilities: types.RtpCapabilities | Record<string, unknown>): void {
    const epoch = this.epoch;
    const media = this.setup(rtpCapabilities as types.RtpCapabilities, epoch).catch((error: unknown) => {
      if (epoch !== this.epoch) return null;
      console.warn('conference: media setup failed', error);
      this.update({ phase: 'failed', error: roomErrorMessage(error) });
      return null;
    });
    this.media = media;
    void media.then(async (ready) => {
      if (!ready || ready.epoch !== this.epoch) return;
      this.update({ phase: 'joined' });
      await this.localMedia;
      await Promise.all([
        ...(['mic', 'camera', 'screen'] as const).map((source) => this.produce(ready, source)),
        ...this.state.media.map((item) => this.consume(item.producerId)),
      ]);
    });
  }

  private async setup(routerRtpCapabilities: types.RtpCapabilities, epoch: number): Promise<Media | null> {
    const device = this.options.createDevice?.() ?? new Device();
    await device.load({ routerRtpCapabilities });
    const iceServers = await this.options.iceServers().catch((error: unknown) => {
      console.warn('conference: no ICE servers, trying host candidates only', error);
      return [];
    });
    if (epoch !== this.epoch) return null;
    const [send, recv] = await Promise.all([this.transport(device, 'send', iceServers), this.transport(device, 'recv', iceServers)]);
    if (epoch !== this.epoch) {
      send.close();
      recv.close();
      return null;
    }
    const media = { epoch, device, send, recv, stalls: { send: new StallDetector(), recv: new StallDetector() } };
    this.current = media;
    return media;
  }

  private async transport(device: Device, direction: 'send' | 'recv', iceServers: RTCIceServer[]): Promise<types.Transport> {
    const { roomId } = this.state;
    const { transport: created } = await this.requests.send(
      { type: 'room.transport.create', roomId, direction, transport: 'webrtc' },
      'room.transport.created',
    );
    if (created.transport !== 'webrtc') throw new RoomRequestError('internal', 'the node answered with a plain transport');
    const options = {
      id: created.transportId,
      iceParameters: created.iceParameters as types.IceParameters,
      iceCandidates: created.iceCandidates as types.IceCandidate[],
      dtlsParameters: created.dtlsParameters as types.DtlsParameters,
      iceServers,
      iceTransportPolicy: this.options.iceTransportPolicy(),
    };
    const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.requests
        .send({ type: 'room.transport.connect', roomId, transportId: transport.id, connect: { transport: 'webrtc', dtlsParameters } }, 'ack')
        .then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const { source, paused } = appData as { source: ProducerSource; paused: boolean };
        this.requests
          .send({ type: 'room.produce', roomId, transportId: transport.id, kind, source, rtpParameters, paused }, 'room.produced')
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    transport.on('connectionstatechange', (state) => {
      if (state === 'disconnected' || state === 'failed') this.scheduleProbe(PROBE_AFTER_MS);
      this.emit('change');
    });
    return transport;
  }

  /** Probes at once when a busy transport stopped receiving (see StallDetector). */
  private async checkTransports(): Promise<void> {
    const media = this.current;
    if (!media || this.state.phase !== 'joined') return;
    const busy = {
      send: [...this.producers.values()].some((p) => p.kind === 'video' && !p.paused && !p.closed),
      recv: this.state.media.some((m) => m.kind === 'video' && m.consumerId !== null && !m.consumerPaused && !m.paused),
    };
    for (const direction of ['send', 'recv'] as const) {
      const transport = media[direction];
      if (transport.closed) return;
      let bytes = 0;
      (await transport.getStats()).forEach((entry: Record<string, unknown>) => {
        if (entry.type === 'transport') bytes += Number(entry.bytesReceived ?? 0);
      });
      if (media.epoch !== this.epoch) return;
      if (media.stalls[direction].sample(bytes, busy[direction])) this.scheduleProbe(0);
    }
  }

  /**
   * The media connection dropped: ask the edge to check the node now. A dead node makes the room
   * move (`room.migrate` rebuilds); a live node with a failed connection gets us a fresh join.
   */
  private scheduleProbe(delayMs: number): void {
    if (this.probeTimer !== undefined) return;
    const epoch = this.epoch;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      const media = this.current;
      if (epoch !== this.epoch || !media) return;
      const states = [media.send.connectionState, media.recv.connectionState];
      const lost = states.some((s) => s === 'disconnected' || s === 'failed');
      // A stall probes at once; a disconnect only if it lasted.
      if (!lost && delayMs > 0) return;
      if (lost) this.scheduleProbe(PROBE_EVERY_MS);
      if (Date.now() - this.lastProbeAt < PROBE_EVERY_MS) return;
      this.lastProbeAt = Date.now();
      this.requests.send({ type: 'room.probe', roomId: this.state.roomId }, 'ack').then(
        () => {
          if (epoch === this.epoch && states.includes('failed')) {
            this.teardown();
            void this.enter();
          }
        },
        (error: unknown) => console.warn('conference: the media node is being replaced', error),
      );
    }, delayMs);
  }

  // ---- local media -----------------------------------------------------------------------------

  private async openLocalMedia(): Promise<void> {
    const getUserMedia = this.options.getUserMedia ?? ((c) => navigator.mediaDevices.getUserMedia(c));
    try {
      this.localStream = await getUserMedia({ audio: true, video: CAMERA_CONSTRAINTS });
    } catch {
      try {
        this.localStream = await getUserMedia({ audio: true });
        this.update({ notice: 'No camera found: others hear you but cannot see you.' });
      } catch {
        this.update({ notice: 'Camera and microphone are unavailable: you can watch and listen, but not speak.' });
      }
    }
    if (this.state.phase === 'left') this.stopLocal();
    this.emit('change');
  }

  private trackOf(source: LocalSource): MediaStreamTrack | undefined {
    switch (source) {
      case 'mic':
        return this.localStream?.getAudioTracks()[0];
      case 'camera':
        return this.localStream?.getVideoTracks()[0];
      case 'screen':
        return this.screenStream?.getVideoTracks()[0];
      default:
        return assertNever(source);
    }
  }

  private pausedOf(source: LocalSource): boolean {
    return (source === 'mic' && !this.state.micOn) || (source === 'camera' && !this.state.cameraOn);
  }

  private async produce(media: Media, source: LocalSource): Promise<void> {
    const track = this.trackOf(source);
    const key = `${media.epoch}:${source}`;
    if (!track || track.readyState === 'ended' || this.producers.has(source) || this.inFlight.has(key)) return;
    if (!media.device.canProduce(track.kind as 'audio' | 'video')) return;
    const paused = this.pausedOf(source);
    this.inFlight.add(key);
    try {
      const producer = await media.send.produce({
        track,
        encodings: source === 'camera' ? CAMERA_ENCODINGS : undefined,
        codecOptions: source === 'mic' ? { opusDtx: true, opusFec: true } : { videoGoogleStartBitrate: 1000 },
        // The same tracks are produced again after a rebuild.
        stopTracks: false,
        appData: { source, paused },
      });
      if (media.epoch !== this.epoch) return producer.close();
      this.producers.set(source, producer);
      // Stopped sharing while the request was in flight.
      if (source === 'screen' && !this.state.sharing) return await this.stopScreenShare(true);
      // The node created it paused already; stop sending locally too.
      if (paused) producer.pause();
      // Muted while the request was in flight: follow the current state.
      else if (this.pausedOf(source)) this.setProducerPaused(source, true);
    } catch (error) {
      if (media.epoch === this.epoch) console.warn(`conference: producing ${source} failed`, error);
    } finally {
      this.inFlight.delete(key);
    }
  }

  private setProducerPaused(source: LocalSource, paused: boolean): void {
    const producer = this.producers.get(source);
    if (!producer || producer.closed || producer.paused === paused) return;
    if (paused) producer.pause();
    else producer.resume();
    this.requests
      .send({ type: paused ? 'room.producer.pause' : 'room.producer.resume', roomId: this.state.roomId, producerId: producer.id }, 'ack')
      .catch((error: unknown) => console.warn(`conference: ${paused ? 'pausing' : 'resuming'} ${source}`, error));
  }

  private stopLocal(): void {
    for (const track of [...(this.localStream?.getTracks() ?? []), ...(this.screenStream?.getTracks() ?? [])]) track.stop();
    this.localStream = null;
    this.screenStream = null;
  }

  // ---- consumers -------------------------------------------------------------------------------

  private async consume(producerId: string): Promise<void> {
    const media = await this.media;
    if (!media || media.epoch !== this.epoch) return;
    const item = this.state.media.find((m) => m.producerId === producerId);
    const key = `${media.epoch}:${producerId}`;
    if (!item || item.consumerId || this.inFlight.has(key)) return;
    this.inFlight.add(key);
    const { roomId } = this.state;
    try {
      const { consumer: created } = await this.requests.send(
        { type: 'room.consume', roomId, transportId: media.recv.id, producerId, rtpCapabilities: media.device.rtpCapabilities as RtpCapabilities },
        'room.consumed',
      );
      const consumer = await media.recv.consume({
        id: created.consumerId,
        producerId,
        kind: created.kind,
        rtpParameters: created.rtpParameters as types.RtpParameters,
      });
      if (media.epoch !== this.epoch || !this.state.media.some((m) => m.producerId === producerId)) {
        consumer.close();
        return;
      }
      this.consumers.set(consumer.id, consumer);
      const layers = created.consumerType === 'simulcast' ? spatialLayersOf(created.rtpParameters) : 0;
      // Starts paused on the node: resuming only when the tile is visible is the view's pause rule.
      this.patchMedia(producerId, { consumerId: consumer.id, track: consumer.track, consumerPaused: true, spatialLayer: layers > 0 ? layers - 1 : null });
      await this.applyView(producerId);
    } catch (error) {
      if (media.epoch === this.epoch) console.warn(`conference: consuming ${producerId} failed`, error);
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Brings the node's consumer in line with its tile: paused when hidden, the layer its width needs. */
  private async applyView(producerId: string): Promise<void> {
    const item = this.state.media.find((m) => m.producerId === producerId);
    const consumer = item?.consumerId ? this.consumers.get(item.consumerId) : undefined;
    if (!item || !consumer) return;
    // Audio always plays; video follows its tile (a tile not rendered yet counts as visible).
    const view = item.kind === 'video' ? this.views.get(producerId) : undefined;
    const wantPaused = view !== undefined && !view.visible;
    const { roomId } = this.state;
    const consumerId = consumer.id;
    if (item.spatialLayer !== null && view?.visible) {
      const layers = spatialLayersOf(consumer.rtpParameters as { encodings?: { scalabilityMode?: unknown }[] });
      const layer = preferredSpatialLayer(view, layers);
      if (layer !== item.spatialLayer) {
        this.patchMedia(producerId, { spatialLayer: layer });
        await this.requests
          .send({ type: 'room.consumer.layers', roomId, consumerId, spatialLayer: layer }, 'ack')
          .catch((error: unknown) => console.warn('conference: setting layers', error));
      }
    }
    if (wantPaused === item.consumerPaused) return;
    this.patchMedia(producerId, { consumerPaused: wantPaused });
    await this.requests
      .send({ type: wantPaused ? 'room.consumer.pause' : 'room.consumer.resume', roomId, consumerId }, 'ack')
      .catch((error: unknown) => console.warn(`conference: ${wantPaused ? 'pausing' : 'resuming'} a consumer`, error));
  }

  private dropConsumer(item: RemoteMedia): void {
    const consumer = item.consumerId ? this.consumers.get(item.consumerId) : undefined;
    consumer?.close();
    if (consumer) this.consumers.delete(consumer.id);
    this.views.delete(item.producerId);
  }

  private patchMedia(producerId: string, patch: Partial<RemoteMedia>): void {
    this.state = { ...this.state, media: this.state.media.map((m) => (m.producerId === producerId ? { ...m, ...patch } : m)) };
    this.emit('change');
  }

  private update(patch: Partial<ConferenceState>): void {
    this.state = { ...this.state, ...patch };
    this.emit('change');
  }
}

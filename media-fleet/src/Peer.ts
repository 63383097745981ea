/**
 * One participant of a room: its transports (a send and a recv WebRtcTransport per browser),
 * its producers (mic, camera, screen share: a second video producer told apart by `source`) and
 * its consumers (always created paused; the edge resumes them once the browser is ready).
 */
import { types } from 'mediasoup';
import type { Logger } from 'pino';
import {
  MediaErrorCode,
  assertNever,
  type ConsumerCreated,
  type ControlRequest,
  type MediaKind,
  type ProducerSource,
  type TransportCreated,
  type TransportDirection,
} from '@callstack/protocol';
import { ControlError, invalidState, notFound } from './errors.ts';
import type { Room } from './Room.ts';
import type { ProducerAppData, ProducerCloseReason } from './RoomTypes.ts';

type ConnectParams = Extract<ControlRequest, { type: 'transport.connect' }>['connect'];

interface PeerTransport {
  transport: types.WebRtcTransport | types.PlainTransport;
  kind: 'webrtc' | 'plain';
  direction: TransportDirection;
  /** mediasoup does not expose a transport's router; consuming needs it. */
  router: types.Router;
}

/** mediasoup rejects bad RTP parameters or capabilities with these: they are the caller's fault. */
async function callerInput<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof types.UnsupportedError || error instanceof TypeError) {
      throw new ControlError(MediaErrorCode.badRequest, error.message);
    }
    throw error;
  }
}

export class Peer {
  readonly logger: Logger;
  readonly #transports = new Map<string, PeerTransport>();
  readonly #producers = new Map<string, types.Producer<ProducerAppData>>();
  readonly #consumers = new Map<string, types.Consumer>();
  /** Producers the edge closed itself, to tell that apart from a closed transport. */
  readonly #closedByRequest = new Set<string>();
  #leaving = false;

  constructor(
    readonly room: Room,
    readonly id: string,
  ) {
    this.logger = room.logger.child({ peerId: id });
  }

  get producers(): ReadonlyMap<string, types.Producer<ProducerAppData>> {
    return this.#producers;
  }

  get consumers(): ReadonlyMap<string, types.Consumer> {
    return this.#consumers;
  }

  get transportCount(): number {
    return this.#transports.size;
  }

  async createTransport(direction: TransportDirection, kind: 'webrtc' | 'plain'): Promise<TransportCreated> {
    const { rtc } = this.room.options;
    // Send transports stay on the primary router (the active-speaker observer is there).
    const router = direction === 'send' ? this.room.primary : await this.room.routerForRecv();
    const listenIp = { ip: rtc.listenIp, announcedIp: rtc.announcedIp };
    const appData = { peerId: this.id, direction };
    switch (kind) {
      case 'webrtc': {
        const transport = await router.createWebRtcTransport({
          listenIps: [listenIp],
          enableUdp: true,
          enableTcp: true,
          preferUdp: true,
          initialAvailableOutgoingBitrate: 1_000_000,
          appData,
        });
        this.#track({ transport, kind, direction, router });
        const { id, iceParameters, iceCandidates, dtlsParameters } = transport;
        return { transport: kind, transportId: id, direction, iceParameters, iceCandidates, dtlsParameters };
      }
      case 'plain': {
        if (!rtc.plainTransports) throw new ControlError(MediaErrorCode.badRequest, 'transport: plain transports are disabled on this node');
        // Send: learn the sender's address from its first packet (comedia); recv: `connect` names it.
        const transport = await router.createPlainTransport({ listenIp, rtcpMux: true, comedia: direction === 'send', appData });
        this.#track({ transport, kind, direction, router });
        return { transport: kind, transportId: transport.id, direction, ip: rtc.announcedIp ?? transport.tuple.localIp, port: transport.tuple.localPort };
      }
      default:
        return assertNever(kind);
    }
  }

  async connect(transportId: string, params: ConnectParams): Promise<void> {
    const entry = this.#transport(transportId);
    if (entry.kind !== params.transport) throw invalidState(`transport ${transportId} is ${entry.kind}, not ${params.transport}`);
    switch (params.transport) {
      case 'webrtc':
        await callerInput(() =>
          (entry.transport as types.WebRtcTransport).connect({ dtlsParameters: params.dtlsParameters as types.WebRtcTransport['dtlsParameters'] }),
        );
        return;
      case 'plain':
        if (entry.direction === 'send') throw invalidState('a plain send transport learns its remote address from the first packet');
        await callerInput(() => (entry.transport as types.PlainTransport).connect({ ip: params.ip, port: params.port }));
        return;
      default:
        assertNever(params);
    }
  }

  async produce(transportId: string, kind: MediaKind, source: ProducerSource, rtpParameters: unknown, paused: boolean): Promise<string> {
    const entry = this.#transport(transportId);
    if (entry.direction !== 'send') throw invalidState(`transport ${transportId} is a recv transport`);
    if ((source === 'mic') !== (kind === 'audio')) throw new ControlError(MediaErrorCode.badRequest, `source: ${source} does not carry ${kind}`);
    const producer = await callerInput(() =>
      entry.transport.produce<ProducerAppData>({ kind, rtpParameters: rtpParameters as types.RtpParameters, paused, appData: { peerId: this.id, source } }),
    );
    this.#producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      this.#producers.delete(producer.id);
      const reason: ProducerCloseReason = this.#leaving ? 'peer-left' : this.#closedByRequest.delete(producer.id) ? 'closed' : 'transport-closed';
      this.room.producerClosed(this.id, producer.id, reason);
    });
    if (kind === 'audio') await this.room.observeAudio(producer);
    this.logger.info({ producerId: producer.id, kind, source }, 'producing');
    this.room.producerAdded(producer);
    return producer.id;
  }

  async consume(transportId: string, producerId: string, rtpCapabilities: unknown): Promise<ConsumerCreated> {
    const entry = this.#transport(transportId);
    if (entry.direction !== 'recv') throw invalidState(`transport ${transportId} is a send transport`);
    const producer = this.room.producer(producerId);
    await this.room.ensureProducerOn(producer, entry.router);
    if (!entry.router.canConsume({ producerId, rtpCapabilities: rtpCapabilities as types.RtpCapabilities })) {
      throw new ControlError(MediaErrorCode.cannotConsume, `rtpCapabilities cannot receive producer ${producerId}`);
    }
    const consumer = await callerInput(() => entry.transport.consume({ producerId, rtpCapabilities: rtpCapabilities as types.RtpCapabilities, paused: true }));
    this.#consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.#consumers.delete(consumer.id));
    return {
      consumerId: consumer.id,
      producerId,
      producerPeerId: producer.appData.peerId,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: consumer.rtpParameters as ConsumerCreated['rtpParameters'],
      consumerType: consumer.type,
      paused: consumer.paused,
      producerPaused: consumer.producerPaused,
    };
  }

  async pauseProducer(producerId: string, paused: boolean): Promise<void> {
    const producer = this.#producer(producerId);
    await (paused ? producer.pause() : producer.resume());
  }

  closeProducer(producerId: string): void {
    const producer = this.#producer(producerId);
    this.#closedByRequest.add(producerId);
    producer.close();
  }

  async pauseConsumer(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.#consumer(consumerId);
    await (paused ? consumer.pause() : consumer.resume());
  }

  async setConsumerLayers(consumerId: string, spatialLayer: number, temporalLayer: number | undefined): Promise<void> {
    const consumer = this.#consumer(consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') throw invalidState(`consumer ${consumerId} is ${consumer.type}: it has no layers`);
    await consumer.setPreferredLayers(temporalLayer === undefined ? { spatialLayer } : { spatialLayer, temporalLayer });
  }

  /** Closes every transport, and with them the peer's producers and consumers. */
  close(): void {
    this.#leaving = true;
    for (const { transport } of this.#transports.values()) transport.close();
    this.#transports.clear();
  }

  #track(entry: PeerTransport): void {
    this.#transports.set(entry.transport.id, entry);
    const transport: types.Transport = entry.transport;
    transport.observer.once('close', () => this.#transports.delete(entry.transport.id));
  }

  #transport(transportId: string): PeerTransport {
    const entry = this.#transports.get(transportId);
    if (!entry) throw notFound('transport', transportId);
    return entry;
  }

  #producer(producerId: string): types.Producer<ProducerAppData> {
    const producer = this.#producers.get(producerId);
    if (!producer) throw notFound('producer', producerId);
    return producer;
  }

  #consumer(consumerId: string): types.Consumer {
    const consumer = this.#consumers.get(consumerId);
    if (!consumer) throw notFound('consumer', consumerId);
    return consumer;
  }
}

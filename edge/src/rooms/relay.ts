/**
 * A participant's media request (transports, producers, consumers, probes) carried out on the
 * room's node: the request it becomes there, the reply the participant gets, and, for producers,
 * the change the others must hear of (applied by roomState's `producerChanged`). Relays run
 * concurrently: the node orders them per peer anyway. A node that does not answer throws
 * `NodeUnreachable` (control.ts), on which the room moves.
 */
import { assertNever, type RoomClientMessage, type ServerMessage } from '@callstack/protocol';
import type { ProducerEvent } from './roomState.ts';
import type { RoomNode } from './RoomNode.ts';
import type { PlacedNode } from './roomTypes.ts';

export type RelayMessage = Exclude<RoomClientMessage, { type: 'room.create' | 'room.join' | 'room.leave' | 'room.recording.start' | 'room.recording.stop' }>;

export interface Relayed {
  reply?: ServerMessage;
  event?: ProducerEvent;
}

export async function relay(control: RoomNode, node: PlacedNode, peerId: string, message: RelayMessage): Promise<Relayed> {
  const peer = { roomId: control.roomId, peerId };
  const { roomId, ref } = message;
  switch (message.type) {
    case 'room.transport.create': {
      const transport = await control.send(node, { type: 'transport.create', ...peer, direction: message.direction, transport: message.transport });
      return { reply: { type: 'room.transport.created', ref, roomId, transport } };
    }
    case 'room.transport.connect':
      await control.send(node, { type: 'transport.connect', ...peer, transportId: message.transportId, connect: message.connect });
      return {};
    case 'room.produce': {
      const { kind, source, paused } = message;
      const { producerId } = await control.send(node, {
        type: 'producer.create',
        ...peer,
        transportId: message.transportId,
        kind,
        source,
        rtpParameters: message.rtpParameters,
        paused,
      });
      return {
        reply: { type: 'room.produced', ref, roomId, producerId },
        event: { type: 'producer.created', producer: { producerId, peerId, kind, source, paused } },
      };
    }
    case 'room.producer.pause':
    case 'room.producer.resume': {
      const paused = message.type === 'room.producer.pause';
      await control.send(node, { type: paused ? 'producer.pause' : 'producer.resume', ...peer, producerId: message.producerId });
      return { event: { type: 'producer.paused', producerId: message.producerId, paused } };
    }
    case 'room.producer.close':
      await control.send(node, { type: 'producer.close', ...peer, producerId: message.producerId });
      return { event: { type: 'producer.closed', producerId: message.producerId } };
    case 'room.consume': {
      const { transportId, producerId, rtpCapabilities } = message;
      const consumer = await control.send(node, { type: 'consumer.create', ...peer, transportId, producerId, rtpCapabilities });
      return { reply: { type: 'room.consumed', ref, roomId, consumer } };
    }
    case 'room.consumer.pause':
    case 'room.consumer.resume':
      await control.send(node, {
        type: message.type === 'room.consumer.pause' ? 'consumer.pause' : 'consumer.resume',
        ...peer,
        consumerId: message.consumerId,
      });
      return {};
    case 'room.consumer.layers':
      await control.send(node, {
        type: 'consumer.layers',
        ...peer,
        consumerId: message.consumerId,
        spatialLayer: message.spatialLayer,
        temporalLayer: message.temporalLayer,
      });
      return {};
    case 'room.probe':
      // Any answer will do: a node that gives none throws, and the room moves.
      await control.send(node, { type: 'node.status' });
      return {};
    default:
      return assertNever(message);
  }
}

import { Emitter, type ClientMessage } from '@callstack/protocol';
import type { SignalingEvents } from '../signaling.ts';
import type { RoomSignaling } from './RoomRequests.ts';

/** The signaling socket as the conference sees it: what it sent, and frames pushed back. */
export class FakeSignaling extends Emitter<SignalingEvents> implements RoomSignaling {
  status: RoomSignaling['status'] = 'online';
  sent: ClientMessage[] = [];
  send(message: ClientMessage): boolean {
    if (this.status !== 'online') return false;
    this.sent.push(message);
    return true;
  }
  push<K extends keyof SignalingEvents>(event: K, ...args: SignalingEvents[K]): void {
    this.emit(event, ...args);
  }
  last(): ClientMessage & { ref?: string } {
    return this.sent.at(-1)!;
  }
}

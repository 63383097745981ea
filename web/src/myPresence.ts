/**
 * The signed-in user's own presence over the signaling socket: the status the edge folded
 * (`presence.self`), the manual choice (`presence.set`), and idle reports (`presence.activity`).
 */
import { Emitter, type ManualStatus, type PresenceStatus } from '@callstack/protocol';
import { ACTIVITY_EVENTS, IdleTracker } from './idle.ts';
import type { SignalingClient } from './signaling.ts';

export interface SelfPresence {
  /** Null until the edge has told us. */
  status: PresenceStatus | null;
  manual: ManualStatus;
}

export class MyPresence extends Emitter<{ change: [presence: SelfPresence] }> {
  state: SelfPresence = { status: null, manual: 'online' };
  private readonly idle: IdleTracker;
  private readonly unsubscribe: (() => void)[];
  private readonly onInput = () => this.idle.input();

  constructor(
    private readonly signaling: SignalingClient,
    idleAfterMs: number,
  ) {
    super();
    this.idle = new IdleTracker(idleAfterMs, (idle) => this.signaling.send({ type: 'presence.activity', idle }));
    this.unsubscribe = [
      signaling.on('presence', ({ status, manual }) => this.set({ status, manual: manual ?? 'online' })),
      // A new connection starts out active at the edge; tell it if this device is idle.
      signaling.on('hello', () => {
        if (this.idle.idle) signaling.send({ type: 'presence.activity', idle: true });
      }),
    ];
    for (const event of ACTIVITY_EVENTS) addEventListener(event, this.onInput, { passive: true });
  }

  /** Sends the choice; the status shown changes when the edge confirms with `presence.self`. */
  choose(manual: ManualStatus): boolean {
    return this.signaling.send({ type: 'presence.set', status: manual });
  }

  dispose(): void {
    this.idle.stop();
    for (const event of ACTIVITY_EVENTS) removeEventListener(event, this.onInput);
    for (const off of this.unsubscribe) off();
  }

  private set(state: SelfPresence): void {
    this.state = state;
    this.emit('change', state);
  }
}

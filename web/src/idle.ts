/**
 * Idle detection for presence: idle after `delayMs` without input, active again on the next input.
 * Input only records a time; one timer checks it, so mouse moves cost nothing.
 */
export interface IdleClock {
  now: () => number;
  setTimeout: (run: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const realClock: IdleClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class IdleTracker {
  idle = false;
  private lastInput: number;
  private timer: unknown;

  constructor(
    private readonly delayMs: number,
    private readonly onChange: (idle: boolean) => void,
    private readonly clock: IdleClock = realClock,
  ) {
    this.lastInput = clock.now();
    this.schedule(delayMs);
  }

  /** A person did something here. */
  input(): void {
    this.lastInput = this.clock.now();
    if (!this.idle) return;
    this.idle = false;
    this.onChange(false);
    this.schedule(this.delayMs);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    const quietFor = this.clock.now() - this.lastInput;
    if (quietFor < this.delayMs) {
      this.schedule(this.delayMs - quietFor);
      return;
    }
    this.idle = true;
    this.onChange(true);
  }
}

/** The inputs that count as someone being here. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

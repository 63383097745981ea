/**
 * Which carrier trunks answer: each trunk the edge has named is probed with OPTIONS every
 * `intervalMs` (0: never); one that times out or answers 5xx is passed over by calls until a probe
 * finds it up again. A call that fails on a trunk only moves on to the next (a single 503 is no
 * verdict on the trunk). When every trunk is down, calls try them all anyway: a probe's opinion
 * never blocks a call outright.
 */
import type { Trunk } from '@callstack/protocol';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';

const PROBE_TIMEOUT_MS = 3_000;

export class TrunkHealth {
  private readonly known = new Map<string, Trunk>();
  private readonly down = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** The status of the trunk's answer to OPTIONS, or null when none came in time. */
    private readonly probeTrunk: (trunk: Trunk) => Promise<number | null>,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  /** The trunks of a route answer, in the edge's order, the healthy ones first. */
  order<T extends Trunk>(trunks: T[]): T[] {
    for (const trunk of trunks) this.known.set(trunk.id, trunk);
    if (this.intervalMs > 0) this.timer ??= setInterval(() => void this.probeAll(), this.intervalMs).unref();
    const up = trunks.filter((trunk) => !this.down.has(trunk.id));
    return up.length > 0 ? up : trunks;
  }

  isUp(trunkId: string): boolean {
    return !this.down.has(trunkId);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async probeAll(): Promise<void> {
    await Promise.all([...this.known.values()].map((trunk) => this.probe(trunk)));
  }

  private async probe(trunk: Trunk): Promise<void> {
    const status = await this.probeTrunk(trunk);
    if (status !== null && status < 500) {
      if (this.down.delete(trunk.id)) this.log.info({ trunkId: trunk.id, status }, 'sip.trunk_up');
    } else if (!this.down.has(trunk.id)) {
      this.down.add(trunk.id);
      this.log.warn({ trunkId: trunk.id, status }, 'sip.trunk_down');
    }
  }
}

/** OPTIONS to the trunk through drachtio: the status of its answer, or null after `PROBE_TIMEOUT_MS`. */
export function probeWithOptions(srf: Srf): (trunk: Trunk) => Promise<number | null> {
  // drachtio-srf's typings miss the (uri, options) form that resolves with the request sent.
  const request = srf.request.bind(srf) as unknown as (uri: string, options: { method: string }) => Promise<NodeJS.EventEmitter>;
  return (trunk) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), PROBE_TIMEOUT_MS);
      const done = (status: number | null) => {
        clearTimeout(timer);
        resolve(status);
      };
      request(`sip:${trunk.host}:${trunk.port};transport=${trunk.transport}`, { method: 'OPTIONS' })
        .then((req) => req.on('response', (res: { status: number }) => done(res.status)))
        .catch(() => done(null));
    });
}

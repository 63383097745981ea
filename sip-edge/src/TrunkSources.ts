/**
 * Which carrier trunk an address belongs to, for Kamailio's question about an INVITE without
 * credentials (`GET /kamailio/trunk`): answered from the edge's list of trunk addresses, kept
 * here and fetched again once older than `maxAgeMs`, so a burst of calls from new addresses costs
 * the edge nothing. When the edge cannot be reached the last list goes on serving; with none yet,
 * the question fails (Kamailio answers 503).
 */
import type { TrunkAddresses } from '@callstack/protocol';
import type { Logger } from 'pino';

const STALE_RETRY_MS = 5_000;

export class TrunkSources {
  private byAddress = new Map<string, string>();
  private fetchedAt: number | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly load: () => Promise<TrunkAddresses>,
    private readonly log: Logger,
    private readonly maxAgeMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The trunk's id, or null when the address is no trunk's. */
  async trunkOf(source: string): Promise<string | null> {
    if (this.fetchedAt === null || this.now() - this.fetchedAt > this.maxAgeMs) await this.refresh();
    return this.byAddress.get(source) ?? null;
  }

  /** One fetch at a time, however many questions wait on it. */
  private refresh(): Promise<void> {
    this.refreshing ??= this.load()
      .then(({ trunks }) => {
        this.byAddress = new Map(trunks.flatMap(({ id, addresses }) => addresses.map((address) => [address, id] as const)));
        this.fetchedAt = this.now();
      })
      .catch((error: unknown) => {
        if (this.fetchedAt === null) throw error;
        this.log.warn({ err: error }, 'sip.trunk_list_stale');
        // Asked again in a few seconds, not on every question while the edge is down.
        this.fetchedAt = this.now() - this.maxAgeMs + STALE_RETRY_MS;
      })
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }
}

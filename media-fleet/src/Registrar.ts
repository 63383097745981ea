/**
 * Self-registration with the edge (`POST {EDGE_URL}/api/fleet/nodes`, the same body and
 * signature as infra-cdk's agent, plus the node's load): at start, every
 * MEDIA_REGISTER_INTERVAL_SECONDS, and at once when a drain starts. Used where no agent runs
 * (local stacks, tests). A failed heartbeat is logged; the next one tries again.
 */
import type { Logger } from 'pino';
import { CONTROL_SIGNATURE_HEADER, FLEET_NODES_PATH, signNodeRegistration, type MediaNodeRegistration } from '@callstack/protocol';
import type { MediaConfig } from './config.ts';
import type { MediaNode } from './MediaNode.ts';

export class Registrar {
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly config: MediaConfig & { edgeUrl: string; registerIntervalSeconds: number },
    private readonly node: MediaNode,
    private readonly controlUrl: string,
    private readonly logger: Logger,
  ) {
    this.#timer = setInterval(() => void this.register(), config.registerIntervalSeconds * 1000);
    this.#timer.unref();
    node.on('draining', () => void this.register());
  }

  /** One signed heartbeat; resolves whether or not the edge took it. */
  async register(): Promise<boolean> {
    const status = this.node.status();
    const { rtc, nodeId, region } = this.config;
    const registration: MediaNodeRegistration = {
      kind: 'media',
      instanceId: nodeId,
      region: region ?? 'local',
      availabilityZone: region ?? 'local',
      publicIp: rtc.announcedIp ?? rtc.listenIp,
      privateIp: rtc.listenIp,
      hostname: null,
      draining: status.draining,
      controlUrl: this.controlUrl,
      rtcPorts: { min: rtc.minPort, max: rtc.maxPort },
      load: { rooms: status.rooms, peers: status.peers, consumers: status.consumers, workers: Math.max(1, status.workers) },
    };
    const body = JSON.stringify(registration);
    try {
      const response = await fetch(new URL(FLEET_NODES_PATH, this.config.edgeUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: await signNodeRegistration(this.config.controlSecret, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) return true;
      this.logger.warn({ status: response.status }, 'registration refused');
    } catch (error) {
      this.logger.warn({ problem: error instanceof Error ? error.message : String(error) }, 'registration failed');
    }
    return false;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

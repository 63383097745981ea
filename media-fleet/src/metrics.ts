/**
 * Prometheus metrics (`GET /metrics`), read from the node when scraped: nothing to keep in sync.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { MediaNode } from './MediaNode.ts';

export function createMetrics(node: MediaNode): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'callstack_media_process_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('callstack_media_rooms', 'Rooms open on this node', () => node.status().rooms);
  gauge('callstack_media_peers', 'Peers in all rooms', () => node.status().peers);
  gauge('callstack_media_transports', 'mediasoup transports (WebRTC, plain and pipe)', () => node.status().transports);
  gauge('callstack_media_producers', 'mediasoup producers (including pipe producers)', () => node.status().producers);
  gauge('callstack_media_consumers', 'mediasoup consumers (including pipe consumers)', () => node.status().consumers);
  gauge('callstack_media_recordings_active', 'Recordings running on this node', () => node.activeRecordings);
  new Counter({
    name: 'callstack_media_recorded_bytes_total',
    help: 'Bytes of finished recording track files since the node started',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(node.recordedBytes);
    },
  });
  gauge('callstack_media_draining', '1 while the node is draining', () => (node.draining ? 1 : 0));

  const perWorker = (name: string, help: string, key: 'routers' | 'consumers') =>
    new Gauge({
      name,
      help,
      labelNames: ['worker_pid'],
      registers: [registry],
      collect() {
        this.reset();
        for (const load of node.pool.loads()) this.set({ worker_pid: String(load.pid) }, load[key]);
      },
    });
  perWorker('callstack_media_worker_routers', 'Routers per mediasoup worker', 'routers');
  perWorker('callstack_media_worker_consumers', 'Consumers per mediasoup worker (budget: MEDIA_CONSUMERS_PER_WORKER)', 'consumers');
  new Gauge({
    name: 'callstack_media_worker_cpu_seconds',
    help: 'CPU seconds (user + system) used by each mediasoup worker (getResourceUsage)',
    labelNames: ['worker_pid'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [pid, seconds] of await node.pool.cpuSeconds()) this.set({ worker_pid: String(pid) }, seconds);
    },
  });
  return registry;
}

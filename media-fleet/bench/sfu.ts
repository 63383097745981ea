/**
 * `npm run bench:sfu`: how much forwarding one mediasoup worker does through the media-fleet
 * service, against a bare mediasoup script doing the same forwarding in the same run.
 *
 * Topology per step: PRODUCERS synthetic senders (node:dgram, RTP into plain transports at
 * BENCH_PPS each, with 1,000-byte payloads the size of video packets; sent as opus so no consumer
 * waits for a keyframe the synthetic stream never has), and R receivers that each
 * consume every producer, so consumers = PRODUCERS × R. For each step it measures, over a window,
 * the packets forwarded per second, the loss, and the worker's CPU from /proc (so the service's
 * control plane is not counted; it is not on the media path). Consumers at 80 % of one core are
 * extrapolated from the last step's CPU per consumer. The fleet's overhead is the ratio of CPU
 * per forwarded packet, fleet / bare.
 *
 * Environment: BENCH_PRODUCERS (10), BENCH_PPS (100), BENCH_STEPS ("1,2,5,10,20,40"),
 * BENCH_WINDOW_SECONDS (5).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { TransportCreated } from '@callstack/protocol';
import { createWorker, type types } from 'mediasoup';
import { report } from '../../tests/bench/report.ts';
import { MEDIA_CODECS } from '../src/codecs.ts';
import { startService, type Service } from '../src/testHarness.ts';

const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 10);
const PPS = Number(process.env.BENCH_PPS ?? 100);
const STEPS = (process.env.BENCH_STEPS ?? '1,2,5,10,20,40').split(',').map(Number);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_SECONDS ?? 5) * 1000;
const PAYLOAD = Buffer.alloc(1000, 0x42);
const LOCALHOST = '127.0.0.1';
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** One way of building the forwarding topology: through the service, or with mediasoup directly. */
interface Topology {
  workerPid: number;
  /** A producer fed over UDP at `ip:port` with `ssrc`. */
  addProducer(index: number): Promise<{ ip: string; port: number; ssrc: number; producerId: string }>;
  /** A receiver consuming every producer onto `socket`. */
  addReceiver(index: number, producerIds: string[], socket: Socket): Promise<void>;
  close(): Promise<void>;
}

const rtpParameters = (ssrc: number): types.RtpParameters => ({
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc }],
});

async function fleetTopology(): Promise<Topology> {
  const service: Service = await startService({ MEDIA_WORKERS: '1', MEDIA_CONSUMERS_PER_WORKER: '100000', LOG_LEVEL: 'silent' });
  const roomId = 'bench';
  const { rtpCapabilities } = await service.call({ type: 'room.create', roomId });
  return {
    workerPid: service.node.status().workerLoad[0]!.pid,
    async addProducer(index) {
      const peerId = `sender-${index}`;
      await service.call({ type: 'peer.join', roomId, peerId });
      const send = (await service.call({ type: 'transport.create', roomId, peerId, direction: 'send', transport: 'plain' })) as Extract<
        TransportCreated,
        { transport: 'plain' }
      >;
      const ssrc = 1000 + index;
      const { producerId } = await service.call({
        type: 'producer.create',
        roomId,
        peerId,
        transportId: send.transportId,
        kind: 'audio',
        source: 'mic',
        rtpParameters: rtpParameters(ssrc) as never,
      });
      return { ip: send.ip, port: send.port, ssrc, producerId };
    },
    async addReceiver(index, producerIds, socket) {
      const peerId = `receiver-${index}`;
      await service.call({ type: 'peer.join', roomId, peerId });
      const recv = await service.call({ type: 'transport.create', roomId, peerId, direction: 'recv', transport: 'plain' });
      await service.call({
        type: 'transport.connect',
        roomId,
        peerId,
        transportId: recv.transportId,
        connect: { transport: 'plain', ip: LOCALHOST, port: socket.address().port },
      });
      for (const producerId of producerIds) {
        const consumer = await service.call({
          type: 'consumer.create',
          roomId,
          peerId,
          transportId: recv.transportId,
          producerId,
          rtpCapabilities: rtpCapabilities as never,
        });
        await service.call({ type: 'consumer.resume', roomId, peerId, consumerId: consumer.consumerId });
      }
    },
    close: () => service.close(),
  };
}

async function bareTopology(): Promise<Topology> {
  const worker = await createWorker({ logLevel: 'error', rtcMinPort: 50000, rtcMaxPort: 59999 });
  const router: types.Router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  const capabilities: types.RtpCapabilities = router.rtpCapabilities;
  return {
    workerPid: worker.pid,
    async addProducer(index) {
      const transport = await router.createPlainTransport({ listenIp: LOCALHOST, rtcpMux: true, comedia: true });
      const ssrc = 1000 + index;
      const producer = await transport.produce({ kind: 'audio', rtpParameters: rtpParameters(ssrc) });
      return { ip: LOCALHOST, port: transport.tuple.localPort, ssrc, producerId: producer.id };
    },
    async addReceiver(_index, producerIds, socket) {
      const transport = await router.createPlainTransport({ listenIp: LOCALHOST, rtcpMux: true, comedia: false });
      await transport.connect({ ip: LOCALHOST, port: socket.address().port });
      for (const producerId of producerIds) {
        const consumer = await transport.consume({ producerId, rtpCapabilities: capabilities, paused: true });
        await consumer.resume();
      }
    },
    close: async () => worker.close(),
  };
}

interface StepResult {
  consumers: number;
  expectedPps: number;
  forwardedPps: number;
  lossPercent: number;
  cpuPercent: number;
}

async function run(name: string, build: () => Promise<Topology>): Promise<StepResult[]> {
  const topology = await build();
  const sockets: Socket[] = [];
  const producers: Awaited<ReturnType<Topology['addProducer']>>[] = [];
  for (let i = 0; i < PRODUCERS; i++) producers.push(await topology.addProducer(i));
  const producerIds = producers.map((producer) => producer.producerId);

  let received = 0;
  const sender = await bind(sockets);
  let seq = 0;
  let sent = 0;
  // Every producer sends PPS packets a second, in 10 ms batches.
  const ticker = setInterval(() => {
    seq++;
    for (const producer of producers) {
      for (let i = 0; i < PPS / 100; i++) {
        sender.send(rtp(producer.ssrc, (seq * 100 + i) & 0xffff), producer.port, producer.ip);
        sent++;
      }
    }
  }, 10);

  const results: StepResult[] = [];
  let receivers = 0;
  try {
    for (const target of STEPS) {
      while (receivers < target) {
        const socket = await bind(sockets);
        socket.on('message', (message) => {
          const payloadType = message[1]! & 0x7f;
          if (payloadType < 64 || payloadType > 95) received++; // RTCP is not forwarded media
        });
        await topology.addReceiver(receivers++, producerIds, socket);
      }
      await sleep(1000); // let the new consumers settle
      const cpuBefore = cpuSeconds(topology.workerPid);
      const countBefore = received;
      const sentBefore = sent;
      const started = performance.now();
      await sleep(WINDOW_MS);
      const seconds = (performance.now() - started) / 1000;
      const forwardedPps = (received - countBefore) / seconds;
      // What was really sent times the fan-out: a sender that falls behind its timer is not SFU loss.
      const expectedPps = ((sent - sentBefore) * receivers) / seconds;
      const cpuPercent = ((cpuSeconds(topology.workerPid) - cpuBefore) / seconds) * 100;
      const step = {
        consumers: PRODUCERS * receivers,
        expectedPps,
        forwardedPps,
        lossPercent: Math.max(0, (1 - forwardedPps / expectedPps) * 100),
        cpuPercent,
      };
      results.push(step);
      console.log(
        `${name.padEnd(6)} consumers ${String(step.consumers).padStart(5)}  forwarded ${fmt(forwardedPps).padStart(8)} pkt/s of ${fmt(expectedPps).padStart(8)}  loss ${step.lossPercent.toFixed(2).padStart(6)} %  worker CPU ${cpuPercent.toFixed(1).padStart(5)} %`,
      );
    }
  } finally {
    clearInterval(ticker);
    for (const socket of sockets) socket.close();
    await topology.close();
  }
  return results;
}

function rtp(ssrc: number, seq: number): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 100;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE((seq * 960) >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, PAYLOAD]);
}

function bind(sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    sockets.push(socket);
    socket.once('error', reject);
    socket.bind(0, LOCALHOST, () => resolve(socket));
  });
}

/** utime + stime of a process, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Consumers one core carries at 80 % CPU, from the busiest step's CPU per consumer. */
function consumersAt80(results: StepResult[]): number {
  const last = results.at(-1)!;
  return last.cpuPercent > 0 ? Math.round((80 / last.cpuPercent) * last.consumers) : Infinity;
}

const cpuPerPacket = (results: StepResult[]) => {
  const last = results.at(-1)!;
  return last.cpuPercent / last.forwardedPps;
};

console.log(
  `bench:sfu — ${PRODUCERS} producers × ${PPS} pkt/s (1,000-byte payloads), receivers ${STEPS.join(', ')}, ${WINDOW_MS / 1000} s windows, one worker\n`,
);
const fleet = await run('fleet', fleetTopology);
const bare = await run('bare', bareTopology);
console.log(`
consumers at 80 % of one core:   fleet ${consumersAt80(fleet)}   bare ${consumersAt80(bare)}
peak forwarded:                  fleet ${fmt(fleet.at(-1)!.forwardedPps)} pkt/s   bare ${fmt(bare.at(-1)!.forwardedPps)} pkt/s
worker CPU per forwarded packet, fleet / bare: ${(cpuPerPacket(fleet) / cpuPerPacket(bare)).toFixed(2)}
(the sender, the receivers and the worker share this machine's cores: loss at the top steps may be the receivers', not the SFU's)`);
report([
  {
    bench: 'sfu',
    name: 'consumers at 80% of one core (fleet node)',
    value: consumersAt80(fleet),
    unit: '',
    conditions: `${PRODUCERS} producers × ${PPS} pkt/s`,
  },
  { bench: 'sfu', name: 'peak forwarded packets/s (fleet node)', value: fleet.at(-1)!.forwardedPps, unit: '/s', conditions: `${STEPS.at(-1)} receivers` },
  { bench: 'sfu', name: 'worker CPU per packet, fleet / bare mediasoup', value: cpuPerPacket(fleet) / cpuPerPacket(bare), unit: '×', conditions: 'same run' },
]);
process.exit(0);

// The package's types live with sip-edge, which no tsconfig that compiles this file includes.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../sip-edge/src/rtpengine-client.d.ts" />
/**
 * A private rtpengine (Debian's rtpengine-daemon) in userspace on loopback: no kernel forwarding
 * table, so it needs neither root nor a capability; no Redis, no recording, no pidfile (stopped by PID).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'rtpengine-client';
import { freePort, Service, startInDir, waitFor } from './processes.ts';

export interface Rtpengine {
  ngHost: '127.0.0.1';
  ngPort: number;
  stop(): Promise<void>;
}

export interface RtpengineOptions {
  logFile: string;
  /** Media ports (each call takes 4: RTP and RTCP on both sides). */
  portMin: number;
  portMax: number;
  /** Address media is bound to and announced in rewritten SDP. */
  interface?: string;
  /** Where rtpengine sends a JSON line for every DTMF event it sees in a call (tests read them). */
  dtmfLogPort?: number;
}

export async function startRtpengine(options: RtpengineOptions): Promise<Rtpengine> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-rtpengine-'));
  const ngPort = await freePort();
  const config = join(dir, 'rtpengine.conf');
  writeFileSync(
    config,
    [
      '[rtpengine]',
      'table = -1',
      `interface = ${options.interface ?? '127.0.0.1'}`,
      `listen-ng = 127.0.0.1:${ngPort}`,
      `port-min = ${options.portMin}`,
      `port-max = ${options.portMax}`,
      // A deleted call keeps its ports for 30 s by default; tests reuse a small range.
      'delete-delay = 0',
      ...(options.dtmfLogPort ? [`dtmf-log-dest = 127.0.0.1:${options.dtmfLogPort}`] : []),
      'log-stderr = true',
      'log-level = 6',
    ].join('\n') + '\n',
  );
  const service = new Service({
    name: 'rtpengine',
    command: '/usr/bin/rtpengine',
    // An explicit config file keeps /etc/rtpengine/rtpengine.conf (kernel table 0, fixed ports) out.
    args: [`--config-file=${config}`, '--foreground'],
    logFile: options.logFile,
    readyPattern: /Startup complete/,
    readyTimeoutMs: 15_000,
  });
  const stop = await startInDir(service, dir, async () => {
    const client = new Client({ timeout: 1_000 });
    try {
      await waitFor(async () => (await client.ping(ngPort, '127.0.0.1')).result === 'pong', { timeoutMs: 10_000, what: 'rtpengine to answer ping' });
    } finally {
      client.close();
    }
  });
  return { ngHost: '127.0.0.1', ngPort, stop };
}

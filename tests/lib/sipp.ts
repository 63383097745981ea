/**
 * SIPp (Debian's sip-tester) runs for SIP tests: a scenario XML against a target, with the messages
 * it sent and received parsed from its message log. Control and media ports are always chosen
 * (SIPp's defaults, 8888 and 6000, collide between concurrent runs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/processes.ts';

export const SIPP_BIN = '/usr/bin/sipp';

export interface SippOptions {
  /** Path of the scenario XML. */
  scenario: string;
  target: { host: string; port: number };
  /** Source address (bound with -bind_local); any 127.x.y.z works on Linux, so each test can have its own. */
  localIp?: string;
  /** Source port; a free one when absent. */
  localPort?: number;
  transport?: 'u1' | 't1';
  /** -s: the user part of request URIs, `[service]`. */
  service?: string;
  /** -au / -ap: digest credentials for `[authentication]`. */
  auth?: { username: string; password: string };
  /** -key name value: `[name]` in the scenario. */
  keys?: Record<string, string | number>;
  /** -m: calls to complete before exiting (default 1). */
  calls?: number;
  /** -r: calls per second. */
  rate?: number;
  /** -l: simultaneous calls. */
  limit?: number;
  /** -recv_timeout: a call waiting longer than this for a message fails (default 5000). */
  recvTimeoutMs?: number;
  /** -timeout: the whole run, in seconds (default 30). */
  timeoutSeconds?: number;
  /** -d: how long a scenario's bare `<pause />` lasts (default 0). */
  pauseMs?: number;
  /** -rtp_echo: every RTP packet that reaches the media port goes back where it came from (audio both ways, counted at the other end). */
  rtpEcho?: boolean;
}

export interface SippMessage {
  direction: 'sent' | 'received';
  text: string;
  /** The first line: `SIP/2.0 401 Unauthorized` or `INVITE sip:... SIP/2.0`. */
  firstLine: string;
  /** The status code of a response. */
  status?: number;
}

export interface SippResult {
  /** 0: every call succeeded; 1: at least one failed; others: SIPp could not run. */
  exitCode: number;
  messages: SippMessage[];
  received: SippMessage[];
  output: string;
}

export interface RunningSipp {
  /** Resolves when SIPp exits. */
  result: Promise<SippResult>;
  /** Ends it early (SIGTERM, SIGKILL after 2 s). */
  stop(): Promise<SippResult>;
}

/** Starts SIPp and returns at once: for a UAS that must be listening before the call is made. */
export async function startSipp(options: SippOptions): Promise<RunningSipp> {
  const dir = mkdtempSync(join(tmpdir(), 'callstack-sipp-'));
  const messageFile = join(dir, 'messages.log');
  const args = [
    options.target.host + ':' + options.target.port,
    '-sf',
    options.scenario,
    '-t',
    options.transport ?? 'u1',
    // SIPp's default is 5060, which a system SIP server may hold.
    '-p',
    String(options.localPort ?? (await freePort())),
    '-m',
    String(options.calls ?? 1),
    '-cp',
    String(await freePort()),
    '-mp',
    String(await freePort()),
    '-recv_timeout',
    String(options.recvTimeoutMs ?? 5_000),
    '-timeout',
    String(options.timeoutSeconds ?? 30),
    '-timeout_error',
    '-nostdin',
    '-trace_msg',
    '-message_file',
    messageFile,
  ];
  if (options.localIp) args.push('-i', options.localIp, '-bind_local');
  if (options.service) args.push('-s', options.service);
  if (options.auth) args.push('-au', options.auth.username, '-ap', options.auth.password);
  if (options.rate) args.push('-r', String(options.rate));
  if (options.limit) args.push('-l', String(options.limit));
  if (options.pauseMs) args.push('-d', String(options.pauseMs));
  if (options.rtpEcho) args.push('-rtp_echo');
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, String(value));

  const child = spawn(SIPP_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (data: Buffer) => (output = (output + data.toString()).slice(-20_000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const result = new Promise<SippResult>((resolve) => {
    child.once('exit', (code, signal) => {
      let log = '';
      try {
        log = readFileSync(messageFile, 'utf8');
      } catch {
        // SIPp exited before logging anything
      }
      rmSync(dir, { recursive: true, force: true });
      const messages = parseMessageLog(log);
      resolve({ exitCode: code ?? (signal ? 128 : -1), messages, received: messages.filter((m) => m.direction === 'received'), output });
    });
  });
  // SIPp cannot start (bad scenario, port taken): say why instead of timing out later.
  child.once('error', (error) => (output += `\n${error.message}`));
  return {
    result,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await result;
        clearTimeout(timer);
      }
      return result;
    },
  };
}

export async function runSipp(options: SippOptions): Promise<SippResult> {
  return (await startSipp(options)).result;
}

/** Splits SIPp's -trace_msg log into messages (blocks start with a dashed line, then "... message sent/received ..."). */
export function parseMessageLog(log: string): SippMessage[] {
  const messages: SippMessage[] = [];
  for (const block of log.split(/^-{10,}.*$/m)) {
    const match = /^\s*\S+ message (sent|received)[^\n]*\n+([\s\S]*)$/.exec(block);
    if (!match) continue;
    const text = match[2]!.replace(/\r\n/g, '\n').trimEnd();
    const firstLine = text.split('\n', 1)[0]!.trim();
    const status = /^SIP\/2\.0 (\d{3})/.exec(firstLine)?.[1];
    messages.push({ direction: match[1] as 'sent' | 'received', text, firstLine, ...(status ? { status: Number(status) } : {}) });
  }
  return messages;
}

/** Every value of a header in a message (case-insensitive name, no compact forms). */
export function headerValues(message: SippMessage, name: string): string[] {
  const lower = name.toLowerCase() + ':';
  return message.text
    .split('\n\n', 1)[0]!
    .split('\n')
    .filter((line) => line.toLowerCase().startsWith(lower))
    .map((line) => line.slice(lower.length).trim());
}

/** The last response received, if any. */
export function finalResponse(result: SippResult): SippMessage | undefined {
  return result.received.filter((m) => m.status !== undefined).at(-1);
}

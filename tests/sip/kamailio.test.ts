/**
 * The SIP edge's Kamailio config (sip-edge/kamailio/kamailio.cfg) with real Kamailio and SIPp, in
 * front of stand-ins for the gateway: an HTTP server for its local API (HA1 lookups, registration
 * reports) and SIPp on its SIP address. Every test sends from a loopback address of its own, so
 * per-source counters (pike, failed digests, bans) never meet across tests. The gateway's stand-in
 * sends to Kamailio's internal socket, as the real one does on a node; phones use the public one,
 * over UDP, TCP, TLS and WebSocket. The last suite keeps registrations in a private PostgreSQL
 * migrated with the edge's own migrations (usrloc db_mode 3).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { selfSignedCertificate } from '../../scripts/lib/tlsCertificate.ts';
import WebSocket from 'ws';
import { startKamailio, type Kamailio } from '../../scripts/lib/kamailio.ts';
import { startPostgres, type PostgresCluster } from '../../scripts/lib/postgres.ts';
import { freePort, waitFor } from '../../scripts/lib/processes.ts';
import { prepareDatabase } from '../../scripts/lib/stack.ts';
import type { Relay } from '../../edge/dev/neonRelay.ts';
import { withClient } from '../../edge/scripts/migrations.ts';
import { finalResponse, headerValues, runSipp, startSipp, type SippOptions, type SippResult } from '../lib/sipp.ts';

const REALM = 'callstack.test';
const TOKEN = randomBytes(16).toString('hex');
const BAN_SECONDS = 4;
const AUTH_FAILURES = 3;
const scenarios = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const logFile = join(process.env.CALLSTACK_TEST_TMP ?? join(tmpdir(), 'callstack-test'), 'logs', 'kamailio.test.log');

interface Registration {
  username: string;
  expires: number;
  contact: string;
  userAgent: string;
  sourceIp: string;
}

/** The gateway's local HTTP API as Kamailio sees it. */
class GatewayApi {
  readonly passwords = new Map<string, string>();
  readonly registrations: Registration[] = [];
  readonly ha1Lookups: string[] = [];
  /** Requests that came without the local token, or with another. */
  readonly badTokens: string[] = [];
  readonly contentTypes: string[] = [];
  /** Users whose lookup fails with a 500, as a broken gateway would. */
  readonly failing = new Set<string>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://gateway');
      if (!this.tokenOk(request.headers)) {
        this.badTokens.push(`${request.method} ${url.pathname}`);
        response.writeHead(401).end();
        return;
      }
      if (request.method === 'GET' && url.pathname === '/kamailio/ha1') {
        const username = url.searchParams.get('username') ?? '';
        this.ha1Lookups.push(username);
        if (this.failing.has(username)) {
          response.writeHead(500).end();
          return;
        }
        const password = this.passwords.get(username);
        if (password === undefined || url.searchParams.get('realm') !== REALM) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain' }).end(md5(`${username}:${REALM}:${password}`));
        return;
      }
      if (request.method === 'POST' && url.pathname === '/kamailio/registrations') {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          this.contentTypes.push(request.headers['content-type'] ?? '');
          this.registrations.push(JSON.parse(body) as Registration);
          response.writeHead(204).end();
        });
        return;
      }
      response.writeHead(404).end();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private tokenOk(headers: IncomingHttpHeaders): boolean {
    return headers['x-callstack-local-token'] === TOKEN;
  }
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

const gateway = new GatewayApi();
let gatewaySipPort = 0;
let kamailio: Kamailio;
// A throwaway self-signed certificate for the TLS listener.
const certDir = mkdtempSync(join(tmpdir(), 'callstack-kamailio-cert-'));
// The names selfSignedCertificate() gives its files.
const certFile = join(certDir, 'cert.pem');
const keyFile = join(certDir, 'key.pem');

/** A source address of the test's own: 127.0.1.1, 127.0.1.2, ... */
let lastHost = 0;
function freshIp(): string {
  return `127.0.1.${++lastHost}`;
}

function sipp(options: Omit<SippOptions, 'target'>): SippOptions {
  // pauseMs: invite.xml's call length (see there).
  return { target: { host: kamailio.host, port: kamailio.port }, recvTimeoutMs: 3_000, pauseMs: 100, ...options };
}

interface RegisterOptions {
  expires?: number;
  localPort?: number;
  recvTimeoutMs?: number;
  transport?: 'u1' | 't1';
  /** The AOR's user, when it is not the authenticating one. */
  aor?: string;
}

function register(localIp: string, username: string, password: string, extra: RegisterOptions = {}) {
  return runSipp(
    sipp({
      scenario: join(scenarios, 'register.xml'),
      localIp,
      service: extra.aor ?? username,
      auth: { username, password },
      transport: extra.transport ?? 'u1',
      keys: { domain: REALM, expires: extra.expires ?? 600 },
      ...(extra.localPort ? { localPort: extra.localPort } : {}),
      ...(extra.recvTimeoutMs ? { recvTimeoutMs: extra.recvTimeoutMs } : {}),
    }),
  );
}

/** The gateway's stand-in calling a user through the internal socket, from the gateway's address. */
function callFromGateway(service: string) {
  return runSipp({
    ...sipp({ scenario: join(scenarios, 'gateway-invite.xml'), localIp: '127.0.0.1', localPort: gatewaySipPort, service, keys: { domain: REALM } }),
    target: { host: kamailio.host, port: kamailio.internalPort },
  });
}

function describeRun(result: SippResult): string {
  return `exit ${result.exitCode}; received: ${result.received.map((m) => m.firstLine).join(' | ') || 'nothing'}\n${result.output.slice(-1500)}`;
}

/** The challenge with what differs per request (nonce, opaque) masked. */
function challengeShape(result: SippResult): string {
  const final = finalResponse(result);
  assert.ok(final, describeRun(result));
  return `${final.firstLine} ${headerValues(final, 'WWW-Authenticate')
    .join(',')
    .replace(/(nonce|opaque)="[^"]*"/g, '$1="*"')}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An RPC to the running Kamailio over its ctl socket, as infra's agent makes them. */
async function kamcmd(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('/usr/sbin/kamcmd', ['-s', kamailio.ctlSocket, ...args]);
  return stdout;
}

async function activeDialogs(): Promise<number> {
  const match = /^\s*all: (\d+)$/m.exec(await kamcmd('dlg.stats_active'));
  assert.ok(match, 'dlg.stats_active has an all: line');
  return Number(match[1]);
}

/** A phone of the test's own over a stream (TLS) or message (WebSocket) transport, speaking raw SIP. */
interface RawPhone {
  ip: string;
  send(text: string): void;
  /** The next message that matches, waiting at most 5 s. */
  next(match: (message: string) => boolean): Promise<string>;
  close(): void;
}

function rawPhone(ip: string, send: (text: string) => void, close: () => void): RawPhone & { push(message: string): void } {
  const queue: string[] = [];
  const waiters: (() => void)[] = [];
  return {
    ip,
    send,
    close,
    push(message) {
      queue.push(message);
      waiters.splice(0).forEach((wake) => wake());
    },
    async next(match) {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const index = queue.findIndex(match);
        if (index >= 0) return queue.splice(index, 1)[0]!;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching message; got:\n${queue.join('\n---\n')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
    },
  };
}

async function tlsPhone(ip: string): Promise<RawPhone> {
  // The source address is bound on the TCP socket underneath (tls.connect has no option for it).
  const tcp = netConnect({ host: kamailio.host, port: kamailio.tlsPort!, localAddress: ip });
  const socket: TLSSocket = tlsConnect({ socket: tcp, servername: 'localhost', ca: readFileSync(certFile) });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const phone = rawPhone(
    ip,
    (text) => socket.write(text),
    () => socket.destroy(),
  );
  // A stream: messages are split by their headers' end and Content-Length.
  let buffer = '';
  socket.on('data', (data: Buffer) => {
    buffer += data.toString();
    for (;;) {
      buffer = buffer.replace(/^(\r\n)+/, '');
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/^(?:content-length|l)\s*:\s*(\d+)/im.exec(buffer.slice(0, end))?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      phone.push(buffer.slice(0, end + 4 + length));
      buffer = buffer.slice(end + 4 + length);
    }
  });
  return phone;
}

async function wsPhone(ip: string): Promise<RawPhone> {
  const socket = new WebSocket(`ws://${kamailio.host}:${kamailio.wsPort}/`, 'sip', { localAddress: ip });
  await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
  assert.equal(socket.protocol, 'sip');
  const phone = rawPhone(
    ip,
    (text) => socket.send(text),
    () => socket.close(),
  );
  socket.on('message', (data: Buffer) => phone.push(data.toString()));
  return phone;
}

/** The value of a header in a raw SIP message (first occurrence). */
function rawHeader(message: string, name: string): string | undefined {
  const line = message
    .split('\r\n\r\n', 1)[0]!
    .split('\r\n')
    .find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ':'));
  return line?.slice(name.length + 1).trim();
}

function rawStatus(message: string): number | undefined {
  const status = /^SIP\/2\.0 (\d{3})/.exec(message)?.[1];
  return status ? Number(status) : undefined;
}

/** The Authorization header answering a Digest challenge (qop auth, MD5), as a phone computes it. */
function digestAuthorization(challenge: string, method: string, uri: string, username: string, password: string): string {
  const param = (name: string) => new RegExp(`${name}="?([^",]*)"?`).exec(challenge)?.[1];
  const realm = param('realm') ?? '';
  const nonce = param('nonce') ?? '';
  const opaque = param('opaque');
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = md5(`${username}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return [
    `Digest username="${username}"`,
    `realm="${realm}"`,
    `nonce="${nonce}"`,
    `uri="${uri}"`,
    `response="${response}"`,
    'algorithm=MD5',
    'qop=auth',
    `nc=${nc}`,
    `cnonce="${cnonce}"`,
    ...(opaque ? [`opaque="${opaque}"`] : []),
  ].join(', ');
}

/**
 * REGISTER without credentials, then with the digest the challenge asks for: the two final
 * responses. `transport` is the Via's (TLS, WS); `contact` the phone's Contact URI.
 */
async function rawRegister(phone: RawPhone, transport: string, username: string, password: string, contact: string): Promise<[string, string]> {
  const callId = randomBytes(8).toString('hex');
  const tag = randomBytes(4).toString('hex');
  const uri = `sip:${REALM}`;
  const request = (cseq: number, authorization?: string) => {
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    phone.send(
      [
        `REGISTER ${uri} SIP/2.0`,
        `Via: SIP/2.0/${transport} ${phone.ip};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <sip:${username}@${REALM}>;tag=${tag}`,
        `To: <sip:${username}@${REALM}>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        `Contact: <${contact}>;expires=600`,
        ...(authorization ? [`Authorization: ${authorization}`] : []),
        'User-Agent: raw phone',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    return phone.next((message) => (rawStatus(message) ?? 0) >= 200 && rawHeader(message, 'CSeq') === `${cseq} REGISTER`);
  };
  const challenge = await request(1);
  if (rawStatus(challenge) !== 401) return [challenge, challenge];
  const authorization = digestAuthorization(rawHeader(challenge, 'WWW-Authenticate') ?? '', 'REGISTER', uri, username, password);
  return [challenge, await request(2, authorization)];
}

/** The phone's answer to a request: the request's Via, From, To (with a tag), Call-ID and CSeq. */
function rawReply(request: string, status: string): string {
  const via = request
    .split('\r\n\r\n', 1)[0]!
    .split('\r\n')
    .filter((line) => /^via:/i.test(line));
  return [
    `SIP/2.0 ${status}`,
    ...via,
    `From: ${rawHeader(request, 'From')}`,
    `To: ${rawHeader(request, 'To')};tag=${randomBytes(4).toString('hex')}`,
    `Call-ID: ${rawHeader(request, 'Call-ID')}`,
    `CSeq: ${rawHeader(request, 'CSeq')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('SIP edge (Kamailio)', () => {
  before(async () => {
    await gateway.start();
    gateway.passwords.set('alice', 'alice-sip-pass');
    gateway.passwords.set('bob', 'bob-sip-pass');
    gateway.passwords.set('carol', 'carol-sip-pass');
    gateway.passwords.set('dave', 'dave-sip-pass');
    gateway.passwords.set('frank', 'frank-sip-pass');
    gateway.passwords.set('grace', 'grace-sip-pass');
    await selfSignedCertificate(certDir, 'localhost', 1);
    gatewaySipPort = await freePort();
    kamailio = await startKamailio({
      logFile,
      realm: REALM,
      gatewaySip: { host: '127.0.0.1', port: gatewaySipPort },
      gatewayHttp: gateway.url,
      localToken: TOKEN,
      banSeconds: BAN_SECONDS,
      pikeRequests: 40,
      authFailures: AUTH_FAILURES,
      tls: { certFile, keyFile },
      ws: true,
    });
  });

  after(async () => {
    await kamailio?.stop();
    await gateway.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('a REGISTER without credentials is challenged with digest, qop auth', async () => {
    const result = await register(freshIp(), 'alice', 'alice-sip-pass');
    const challenge = result.received[0];
    assert.equal(challenge?.status, 401, describeRun(result));
    const [header] = headerValues(challenge, 'WWW-Authenticate');
    assert.match(header ?? '', /^Digest realm="callstack\.test", nonce="[^"]+", qop="auth"/);
    assert.doesNotMatch(challenge.text, /kamailio/i, 'no software banner for scanners');
  });

  test('the right password registers, and the gateway hears of it and of the unregistration', async () => {
    const ip = freshIp();
    const localPort = await freePort();
    const result = await register(ip, 'alice', 'alice-sip-pass', { localPort });
    assert.equal(finalResponse(result)?.status, 200, describeRun(result));
    assert.equal(result.exitCode, 0);
    // Reported after the 200 is sent.
    const reported = await waitFor(
      async () => gateway.registrations.filter((r) => r.sourceIp === ip).length > 0 && gateway.registrations.filter((r) => r.sourceIp === ip),
      {
        timeoutMs: 5_000,
        what: 'the registration report',
      },
    );
    assert.equal(reported.length, 1);
    assert.deepEqual(
      { ...reported[0], expires: undefined },
      {
        username: 'alice',
        expires: undefined,
        contact: `sip:alice@${ip}:${localPort};transport=UDP`,
        userAgent: 'SIPp phone',
        sourceIp: ip,
      },
    );
    // Seconds left, from two clocks (usrloc's and the config's): 601 happens.
    assert.ok(reported[0]!.expires > 590 && reported[0]!.expires <= 601, `expires ${reported[0]!.expires}`);

    const removed = await register(ip, 'alice', 'alice-sip-pass', { localPort, expires: 0 });
    assert.equal(finalResponse(removed)?.status, 200, describeRun(removed));
    const expiries = await waitFor(
      async () => gateway.registrations.filter((r) => r.sourceIp === ip).length > 1 && gateway.registrations.filter((r) => r.sourceIp === ip),
      {
        timeoutMs: 5_000,
        what: 'the unregistration report',
      },
    );
    assert.deepEqual(
      expiries.map((r) => r.expires),
      [reported[0]!.expires, 0],
    );
    assert.ok(
      gateway.contentTypes.every((type) => type === 'application/json'),
      gateway.contentTypes.join(),
    );
    assert.deepEqual(gateway.badTokens, []);
  });

  test('a wrong password and an unknown user get the same challenge again', async () => {
    const wrong = await register(freshIp(), 'alice', 'not-her-password');
    const unknown = await register(freshIp(), 'mallory', 'any-password');
    assert.equal(finalResponse(wrong)?.status, 401, describeRun(wrong));
    assert.equal(finalResponse(unknown)?.status, 401, describeRun(unknown));
    assert.equal(challengeShape(wrong), challengeShape(unknown));
    assert.ok(gateway.ha1Lookups.includes('mallory'));
  });

  test('a phone registers over TCP too', async () => {
    const ip = freshIp();
    const result = await register(ip, 'alice', 'alice-sip-pass', { transport: 't1' });
    assert.equal(finalResponse(result)?.status, 200, describeRun(result));
    const reported = await waitFor(async () => gateway.registrations.find((r) => r.sourceIp === ip), { timeoutMs: 5_000, what: 'the registration report' });
    assert.match(reported.contact, /;transport=TCP$/);
  });

  test('a phone cannot register another user', async () => {
    const result = await register(freshIp(), 'alice', 'alice-sip-pass', { aor: 'bob' });
    assert.equal(finalResponse(result)?.status, 403, describeRun(result));
  });

  test('when the gateway cannot answer a lookup, REGISTER and INVITE get 503', async () => {
    gateway.passwords.set('erin', 'erin-sip-pass');
    gateway.failing.add('erin');
    try {
      const registered = await register(freshIp(), 'erin', 'erin-sip-pass');
      assert.equal(finalResponse(registered)?.status, 503, describeRun(registered));
      const call = await runSipp(
        sipp({
          scenario: join(scenarios, 'invite.xml'),
          localIp: freshIp(),
          service: 'alice',
          auth: { username: 'erin', password: 'erin-sip-pass' },
          keys: { domain: REALM, caller: 'erin' },
        }),
      );
      assert.deepEqual(
        call.received.map((m) => m.status),
        [407, 503],
        describeRun(call),
      );
    } finally {
      gateway.failing.delete('erin');
    }
  });

  test('a new password works at once, though the old HA1 is cached', async () => {
    const ip = freshIp();
    const lookups = () => gateway.ha1Lookups.filter((username) => username === 'bob').length;
    assert.equal(finalResponse(await register(ip, 'bob', 'bob-sip-pass'))?.status, 200);
    assert.equal(finalResponse(await register(ip, 'bob', 'bob-sip-pass'))?.status, 200);
    assert.equal(lookups(), 1, 'the second registration uses the cached HA1');
    gateway.passwords.set('bob', 'bob-new-pass');
    const renewed = await register(ip, 'bob', 'bob-new-pass');
    assert.equal(finalResponse(renewed)?.status, 200, describeRun(renewed));
    assert.equal(lookups(), 2);
    assert.equal(finalResponse(await register(ip, 'bob', 'bob-sip-pass'))?.status, 401);
  });

  test("a phone's INVITE is challenged, then reaches the gateway with the authenticated user only", async () => {
    const uas = await startSipp({
      scenario: join(scenarios, 'uas.xml'),
      target: { host: kamailio.host, port: kamailio.port },
      localIp: '127.0.0.1',
      localPort: gatewaySipPort,
      timeoutSeconds: 30,
    });
    try {
      const call = await runSipp(
        sipp({
          scenario: join(scenarios, 'invite.xml'),
          localIp: freshIp(),
          service: '+15550100',
          auth: { username: 'alice', password: 'alice-sip-pass' },
          keys: { domain: REALM, caller: 'alice' },
        }),
      );
      assert.equal(call.received[0]?.status, 407, describeRun(call));
      assert.match(headerValues(call.received[0]!, 'Proxy-Authenticate')[0] ?? '', /^Digest realm="callstack\.test"/);
      assert.equal(call.exitCode, 0, describeRun(call));
      const answered = await uas.result;
      assert.equal(answered.exitCode, 0, describeRun(answered));
      const invite = answered.received.find((m) => m.firstLine.startsWith('INVITE '));
      assert.ok(invite);
      assert.equal(invite.firstLine, `INVITE sip:+15550100@${REALM} SIP/2.0`);
      assert.deepEqual(headerValues(invite, 'X-CallStack-User'), ['alice']);
      assert.deepEqual(headerValues(invite, 'X-CallStack-Role'), []);
      assert.deepEqual(headerValues(invite, 'Proxy-Authorization'), [], 'credentials are consumed');
      // Relayed from the internal socket, recorded on both sides: the gateway's in-dialog
      // requests come back to the internal one, the phone's to the public one.
      assert.match(headerValues(invite, 'Via')[0] ?? '', new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${kamailio.internalPort};`));
      const routes = headerValues(invite, 'Record-Route');
      assert.equal(routes.length, 2, routes.join(' | '));
      assert.match(routes[0]!, new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.internalPort};`));
      assert.match(routes[1]!, new RegExp(`^<sip:127\\.0\\.0\\.1:${kamailio.port};`));
      // The phone's BYE, along the route set, came out of the internal socket too.
      const bye = answered.received.find((m) => m.firstLine.startsWith('BYE '));
      assert.ok(bye, describeRun(answered));
      assert.match(headerValues(bye, 'Via')[0] ?? '', new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${kamailio.internalPort};`));
    } finally {
      await uas.stop();
    }
  });

  test('the gateway calls a registered phone at its contact; unknown users get 404, offline ones 480', async () => {
    const phoneIp = freshIp();
    const phonePort = await freePort();
    const registered = await register(phoneIp, 'carol', 'carol-sip-pass', { localPort: phonePort });
    assert.equal(finalResponse(registered)?.status, 200, describeRun(registered));

    const phone = await startSipp({
      scenario: join(scenarios, 'uas.xml'),
      target: { host: kamailio.host, port: kamailio.port },
      localIp: phoneIp,
      localPort: phonePort,
    });
    const fromGateway = (service: string) => callFromGateway(service);
    try {
      const call = await fromGateway('carol');
      assert.equal(call.exitCode, 0, describeRun(call));
      assert.ok(call.received.some((m) => m.status === 200));
      const answered = await phone.result;
      assert.equal(answered.exitCode, 0, describeRun(answered));
      const invite = answered.received.find((m) => m.firstLine.startsWith('INVITE '));
      assert.equal(invite?.firstLine, `INVITE sip:carol@${phoneIp}:${phonePort};transport=UDP SIP/2.0`);
      // The gateway sent to the internal socket; the phone hears from the public one, in the
      // dialog too (the gateway's ACK and BYE follow the double Record-Route).
      assert.match(headerValues(invite, 'Via')[0] ?? '', new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${kamailio.port};`));
      assert.equal(headerValues(invite, 'Record-Route').length, 2);
      const bye = answered.received.find((m) => m.firstLine.startsWith('BYE '));
      assert.ok(bye, describeRun(answered));
      assert.match(headerValues(bye, 'Via')[0] ?? '', new RegExp(`^SIP/2.0/UDP 127\\.0\\.0\\.1:${kamailio.port};`));
    } finally {
      await phone.stop();
    }

    const unknown = await fromGateway('nobody');
    assert.equal(finalResponse(unknown)?.status, 404, describeRun(unknown));
    // dave is a user the gateway knows, never registered.
    const offline = await fromGateway('dave');
    assert.equal(finalResponse(offline)?.status, 480, describeRun(offline));
  });

  test('a phone registers over TLS with digest', async () => {
    const ip = freshIp();
    const phone = await tlsPhone(ip);
    try {
      const [challenge, registered] = await rawRegister(phone, 'TLS', 'grace', 'grace-sip-pass', `sip:grace@${ip}:5061;transport=tls`);
      assert.equal(rawStatus(challenge), 401, challenge);
      assert.match(rawHeader(challenge, 'WWW-Authenticate') ?? '', /^Digest realm="callstack\.test"/);
      assert.equal(rawStatus(registered), 200, registered);
    } finally {
      phone.close();
    }
    const reported = await waitFor(async () => gateway.registrations.find((r) => r.sourceIp === ip), { timeoutMs: 5_000, what: 'the registration report' });
    assert.deepEqual(reported && { username: reported.username, contact: reported.contact }, {
      username: 'grace',
      contact: `sip:grace@${ip}:5061;transport=tls`,
    });
  });

  test('a WebSocket phone registers with digest and is called over its connection', async () => {
    const ip = freshIp();
    const phone = await wsPhone(ip);
    // What browsers send: a host that resolves nowhere, reachable only over the connection.
    const contact = `sip:frank@${randomBytes(4).toString('hex')}.invalid;transport=ws`;
    try {
      const wrong = await rawRegister(phone, 'WS', 'frank', 'not-his-password', contact);
      assert.equal(rawStatus(wrong[1]), 401, wrong[1]);
      const [challenge, registered] = await rawRegister(phone, 'WS', 'frank', 'frank-sip-pass', contact);
      assert.equal(rawStatus(challenge), 401, challenge);
      assert.equal(rawStatus(registered), 200, registered);
      const reported = await waitFor(async () => gateway.registrations.find((r) => r.sourceIp === ip), {
        timeoutMs: 5_000,
        what: 'the registration report',
      });
      assert.equal(reported.contact, contact);

      // The gateway calls frank: the INVITE reaches the WebSocket, and his 480 reaches the gateway.
      const call = callFromGateway('frank');
      const invite = await phone.next((message) => message.startsWith('INVITE '));
      assert.equal(invite.split('\r\n', 1)[0], `INVITE ${contact} SIP/2.0`);
      assert.match(rawHeader(invite, 'Via') ?? '', /^SIP\/2\.0\/WS /);
      phone.send(rawReply(invite, '480 Temporarily Unavailable'));
      const result = await call;
      assert.equal(finalResponse(result)?.status, 480, describeRun(result));
      // Acknowledged in the INVITE's transaction, so the 480 is not retransmitted into later tests.
      const branch = (firstLine: string) =>
        /branch=([^;]+)/.exec(
          headerValues(
            result.messages.find((m) => m.direction === 'sent' && m.firstLine.startsWith(firstLine))!,
            'Via',
          )[0] ?? '',
        )?.[1];
      assert.equal(branch('ACK '), branch('INVITE '));
    } finally {
      phone.close();
    }
  });

  test('HTTP on the WebSocket port without an upgrade gets no handshake', async () => {
    const response = await fetch(`http://${kamailio.host}:${kamailio.wsPort}/`);
    assert.equal(response.status, 404);
    await response.arrayBuffer();
  });

  test('draining: new calls from phones get 503, calls in progress and registrations go on; dialogs are counted', async () => {
    assert.equal(await activeDialogs(), 0);
    const stats = async () => {
      const text = await kamcmd('stats.get_statistics', 'tmx:', 'sl:');
      return (name: string) => Number(new RegExp(`^${name} = (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    const before5xx = (await stats())('sl:5xx_replies');
    assert.ok(Number.isFinite(before5xx) && Number.isFinite((await stats())('tmx:5xx_transactions')), await kamcmd('stats.get_statistics', 'tmx:', 'sl:'));

    const uas = await startSipp({
      scenario: join(scenarios, 'uas.xml'),
      target: { host: kamailio.host, port: kamailio.internalPort },
      localIp: '127.0.0.1',
      localPort: gatewaySipPort,
      timeoutSeconds: 30,
    });
    const phoneCall = (pauseMs?: number) =>
      runSipp(
        sipp({
          scenario: join(scenarios, 'invite.xml'),
          localIp: freshIp(),
          service: '+15550100',
          auth: { username: 'alice', password: 'alice-sip-pass' },
          keys: { domain: REALM, caller: 'alice' },
          ...(pauseMs ? { pauseMs } : {}),
        }),
      );
    try {
      // A call that lasts 3 s: it is counted, and its BYE passes while the node drains.
      const inProgress = phoneCall(3_000);
      await waitFor(async () => (await activeDialogs()) === 1, { timeoutMs: 5_000, what: 'an active dialog' });
      await kamcmd('pv.shvSet', 'draining', 'int', '1');

      const refused = await phoneCall();
      assert.deepEqual(
        refused.received.map((m) => m.status),
        [503],
        describeRun(refused),
      );
      const registered = await register(freshIp(), 'alice', 'alice-sip-pass');
      assert.equal(finalResponse(registered)?.status, 200, describeRun(registered));

      const finished = await inProgress;
      assert.equal(finished.exitCode, 0, `${describeRun(finished)}\ngateway: ${describeRun(await uas.stop())}`);
      assert.equal((await uas.result).exitCode, 0);
      await waitFor(async () => (await activeDialogs()) === 0, { timeoutMs: 5_000, what: 'no active dialog' });
      assert.ok((await stats())('sl:5xx_replies') > before5xx, 'the 503 is counted');
    } finally {
      await kamcmd('pv.shvSet', 'draining', 'int', '0');
      await uas.stop();
    }
  });

  test('a flood bans its source, even for a valid REGISTER, until the ban runs out', async () => {
    const ip = freshIp();
    const flood = await runSipp(
      sipp({ scenario: join(scenarios, 'options.xml'), localIp: ip, calls: 300, rate: 200, limit: 300, recvTimeoutMs: 300, timeoutSeconds: 20 }),
    );
    const answered = flood.received.length;
    assert.ok(answered > 0 && answered < 100, `${answered} of 300 answered\n${describeRun(flood)}`);

    const banned = await register(ip, 'alice', 'alice-sip-pass', { recvTimeoutMs: 1_000 });
    assert.equal(banned.received.length, 0, describeRun(banned));
    // Quiet for longer than the ban: it lifts (each dropped request renews it).
    assert.equal(await registersAfterTheBan(ip), 200);
  });

  /**
   * The final status of a REGISTER sent after a quiet spell longer than the ban. A loaded machine
   * may answer that first one too late; it renews the ban, so a second try waits out the ban again.
   */
  async function registersAfterTheBan(ip: string): Promise<number | undefined> {
    let status: number | undefined;
    for (let attempt = 0; attempt < 3 && status !== 200; attempt++) {
      await sleep((BAN_SECONDS + 2) * 1_000);
      status = finalResponse(await register(ip, 'alice', 'alice-sip-pass'))?.status;
    }
    return status;
  }

  test('repeated wrong passwords ban the source', async () => {
    const ip = freshIp();
    for (let attempt = 1; attempt < AUTH_FAILURES; attempt++) {
      assert.equal(finalResponse(await register(ip, 'alice', `guess-${attempt}`))?.status, 401);
    }
    // The failure that reaches the limit is not answered, nor is anything after it.
    const last = await register(ip, 'alice', 'guess-last', { recvTimeoutMs: 1_000 });
    assert.deepEqual(
      last.received.map((m) => m.status),
      [401],
      describeRun(last),
    );
    const banned = await register(ip, 'alice', 'alice-sip-pass', { recvTimeoutMs: 1_000 });
    assert.equal(banned.received.length, 0, describeRun(banned));
    assert.equal(await registersAfterTheBan(ip), 200);
  });

  test('malformed messages get no 5xx, and the edge keeps answering', async () => {
    const ip = freshIp();
    const socket = createSocket('udp4');
    const replies: string[] = [];
    socket.on('message', (message) => replies.push(message.toString()));
    await new Promise<void>((resolve) => socket.bind(0, ip, resolve));
    const { port } = socket.address();
    const send = (text: string | Buffer) =>
      new Promise<void>((resolve, reject) => socket.send(text, kamailio.port, kamailio.host, (error) => (error ? reject(error) : resolve())));
    const options = (callId: string) =>
      [
        `OPTIONS sip:${kamailio.host}:${kamailio.port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${ip}:${port};branch=z9hG4bK${callId};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@${ip}>;tag=${callId}`,
        `To: <sip:${kamailio.host}:${kamailio.port}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    try {
      await send(randomBytes(600));
      await send('INVITE sip:bob@callstack.test SIP/2.0\r\n\r\n');
      await send(`INVITE sip:bob@callstack.test SIP/2.0\r\nVia: SIP/2.0/UDP ${ip}:${port};branch=z9hG4bKbad1\r\nContent-Length: 0\r\n\r\n`);
      await send(options('bad-cseq').replace('CSeq: 1 OPTIONS', 'CSeq: x INVITE'));
      await send(options('bad-length').replace('Content-Length: 0', 'Content-Length: 99999'));
      await send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnone\r\n\r\n');
      await send(options('good'));
      const deadline = Date.now() + 5_000;
      while (!replies.some((reply) => reply.includes('Call-ID: good')) && Date.now() < deadline) await sleep(50);
      assert.ok(
        replies.some((reply) => reply.startsWith('SIP/2.0 200') && reply.includes('Call-ID: good')),
        replies.join('\n---\n'),
      );
      assert.deepEqual(
        replies.filter((reply) => reply.startsWith('SIP/2.0 5')),
        [],
      );
    } finally {
      socket.close();
    }
  });
});

describe('SIP edge (Kamailio) with registrations in PostgreSQL', () => {
  const api = new GatewayApi();
  const logs = join(dirname(logFile), 'kamailio-db');
  let postgres: PostgresCluster | undefined;
  let relay: Relay | undefined;
  let gatewayPort = 0;
  const nodes = new Set<Kamailio>();
  let started = 0;

  before(async () => {
    await api.start();
    api.passwords.set('heidi', 'heidi-sip-pass');
    api.passwords.set('ivan', 'ivan-sip-pass');
    gatewayPort = await freePort();
    postgres = await startPostgres(join(logs, 'postgres.log'));
    // The edge's migrations, 0009_sip_location.sql among them, as the platform applies them.
    relay = await prepareDatabase(postgres);
  });

  after(async () => {
    for (const node of nodes) await node.stop();
    await relay?.close();
    await postgres?.stop();
    await api.stop();
  });

  /** One more SIP node of the region: its own ports and process, the same database. */
  async function startNode(): Promise<Kamailio> {
    const node = await startKamailio({
      logFile: join(logs, `kamailio-${++started}.log`),
      realm: REALM,
      gatewaySip: { host: '127.0.0.1', port: gatewayPort },
      gatewayHttp: api.url,
      localToken: TOKEN,
      databaseUrl: postgres!.url,
    });
    nodes.add(node);
    return node;
  }

  async function stopNode(node: Kamailio): Promise<void> {
    nodes.delete(node);
    await node.stop();
  }

  function registerAt(node: Kamailio, ip: string, port: number, username: string, password: string, expires = 600) {
    return runSipp({
      scenario: join(scenarios, 'register.xml'),
      target: { host: node.host, port: node.port },
      localIp: ip,
      localPort: port,
      service: username,
      auth: { username, password },
      transport: 'u1',
      keys: { domain: REALM, expires },
      recvTimeoutMs: 3_000,
    });
  }

  function callFrom(node: Kamailio, service: string) {
    return runSipp({
      scenario: join(scenarios, 'gateway-invite.xml'),
      target: { host: node.host, port: node.internalPort },
      localIp: '127.0.0.1',
      localPort: gatewayPort,
      service,
      keys: { domain: REALM },
      recvTimeoutMs: 3_000,
      pauseMs: 100,
    });
  }

  /** The gateway calls `username` through `node`; the phone at ip:port answers. */
  async function callReachesPhone(node: Kamailio, username: string, ip: string, port: number): Promise<void> {
    const phone = await startSipp({ scenario: join(scenarios, 'uas.xml'), target: { host: node.host, port: node.port }, localIp: ip, localPort: port });
    try {
      const call = await callFrom(node, username);
      assert.equal(call.exitCode, 0, describeRun(call));
      assert.ok(
        call.received.some((m) => m.status === 200),
        describeRun(call),
      );
      const answered = await phone.result;
      assert.equal(answered.exitCode, 0, describeRun(answered));
      const invite = answered.received.find((m) => m.firstLine.startsWith('INVITE '));
      assert.equal(invite?.firstLine, `INVITE sip:${username}@${ip}:${port};transport=UDP SIP/2.0`);
      assert.ok(
        answered.received.some((m) => m.firstLine.startsWith('BYE ')),
        describeRun(answered),
      );
    } finally {
      await phone.stop();
    }
  }

  const locations = () =>
    withClient({ databaseUrl: postgres!.url, relayUrl: relay!.url }, async (client) => {
      const { rows } = await client.query<{ username: string; contact: string }>('select username, contact from location order by id');
      return rows;
    });

  test('a registration survives a restart and is found by every node of the region, unregistration too', async () => {
    const ip = freshIp();
    const port = await freePort();
    const first = await startNode();
    const registered = await registerAt(first, ip, port, 'heidi', 'heidi-sip-pass');
    assert.equal(finalResponse(registered)?.status, 200, describeRun(registered));
    assert.deepEqual(await locations(), [{ username: 'heidi', contact: `sip:heidi@${ip}:${port};transport=UDP` }]);
    // Reported to the gateway with the seconds granted, read back from the database.
    const report = await waitFor(async () => api.registrations.find((r) => r.sourceIp === ip), { timeoutMs: 5_000, what: 'the registration report' });
    assert.ok(report.expires > 590 && report.expires <= 601, `expires ${report.expires}`);

    // Restarted (a new process on the same database): the phone is reached without registering again.
    await stopNode(first);
    const restarted = await startNode();
    await callReachesPhone(restarted, 'heidi', ip, port);

    // Another node of the region, running beside it, finds the phone too.
    const other = await startNode();
    await callReachesPhone(other, 'heidi', ip, port);

    // Unregistering through one node takes the phone off every node at once.
    const removed = await registerAt(other, ip, port, 'heidi', 'heidi-sip-pass', 0);
    assert.equal(finalResponse(removed)?.status, 200, describeRun(removed));
    assert.deepEqual(await locations(), []);
    const offline = await callFrom(restarted, 'heidi');
    assert.equal(finalResponse(offline)?.status, 480, describeRun(offline));
    assert.deepEqual(api.badTokens, []);
  });
});

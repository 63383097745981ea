/**
 * The SIP edge's Kamailio config (sip-edge/kamailio/kamailio.cfg) with real Kamailio and SIPp, in
 * front of stand-ins for the gateway: an HTTP server for its local API (HA1 lookups, registration
 * reports) and SIPp on its SIP address. Every test sends from a loopback address of its own, so
 * per-source counters (pike, failed digests, bans) never meet across tests.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startKamailio, type Kamailio } from '../../scripts/lib/kamailio.ts';
import { freePort, waitFor } from '../../scripts/lib/processes.ts';
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

/** A source address of the test's own: 127.0.1.1, 127.0.1.2, ... */
let lastHost = 0;
function freshIp(): string {
  return `127.0.1.${++lastHost}`;
}

function sipp(options: Omit<SippOptions, 'target'>): SippOptions {
  return { target: { host: kamailio.host, port: kamailio.port }, recvTimeoutMs: 3_000, ...options };
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

describe('SIP edge (Kamailio)', () => {
  before(async () => {
    await gateway.start();
    gateway.passwords.set('alice', 'alice-sip-pass');
    gateway.passwords.set('bob', 'bob-sip-pass');
    gateway.passwords.set('carol', 'carol-sip-pass');
    gateway.passwords.set('dave', 'dave-sip-pass');
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
    });
  });

  after(async () => {
    await kamailio?.stop();
    await gateway.stop();
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
    assert.ok(reported[0]!.expires > 590 && reported[0]!.expires <= 600, `expires ${reported[0]!.expires}`);

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
      assert.equal(headerValues(invite, 'Record-Route').length, 1);
      assert.ok(answered.received.some((m) => m.firstLine.startsWith('BYE ')));
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
    const fromGateway = (service: string) =>
      runSipp(sipp({ scenario: join(scenarios, 'gateway-invite.xml'), localIp: '127.0.0.1', localPort: gatewaySipPort, service, keys: { domain: REALM } }));
    try {
      const call = await fromGateway('carol');
      assert.equal(call.exitCode, 0, describeRun(call));
      assert.ok(call.received.some((m) => m.status === 200));
      const answered = await phone.result;
      assert.equal(answered.exitCode, 0, describeRun(answered));
      const invite = answered.received.find((m) => m.firstLine.startsWith('INVITE '));
      assert.equal(invite?.firstLine, `INVITE sip:carol@${phoneIp}:${phonePort};transport=UDP SIP/2.0`);
    } finally {
      await phone.stop();
    }

    assert.equal(finalResponse(await fromGateway('nobody'))?.status, 404);
    // dave is a user the gateway knows, never registered.
    assert.equal(finalResponse(await fromGateway('dave'))?.status, 480);
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
    await sleep((BAN_SECONDS + 2) * 1_000);
    const lifted = await register(ip, 'alice', 'alice-sip-pass');
    assert.equal(finalResponse(lifted)?.status, 200, describeRun(lifted));
  });

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
    await sleep((BAN_SECONDS + 2) * 1_000);
    assert.equal(finalResponse(await register(ip, 'alice', 'alice-sip-pass'))?.status, 200);
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

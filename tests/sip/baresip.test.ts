/**
 * The SIP test tools themselves: baresip phones calling each other directly (no proxy), with real
 * G.711 audio both ways, RFC 4733 DTMF, hold, blind transfer and digest registration (against a
 * SIPp registrar that checks the credentials); and rtpengine in userspace answering the NG protocol
 * and forwarding RTP.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from 'rtpengine-client';
import { freePort } from '../../scripts/lib/processes.ts';
import { startRtpengine } from '../../scripts/lib/rtpengine.ts';
import { audioEnergy, Baresip, makeSilentWav, makeToneWav, type BaresipAccount } from '../lib/baresip.ts';

const work = mkdtempSync(join(tmpdir(), 'callstack-sip-test-'));
const TONES = { a: 440, b: 660, c: 880 } as const;

function phone(name: keyof typeof TONES, account: Partial<BaresipAccount> = {}): Promise<Baresip> {
  return Baresip.start({
    name,
    logFile: join(work, `baresip-${name}.log`),
    account: { username: name, password: `${name}-pass`, domain: '127.0.0.1', ...account },
    audioSource: join(work, `${name}.wav`),
    recordTo: join(work, `${name}-received.wav`),
  });
}

before(async () => {
  // aufile ends the call when its file runs out: a minute outlasts every call here.
  await Promise.all(Object.entries(TONES).map(([name, hz]) => makeToneWav(join(work, `${name}.wav`), { hz, seconds: 60 })));
});

describe('two baresip phones calling each other directly', () => {
  let a: Baresip;
  let b: Baresip;
  let c: Baresip;

  before(async () => {
    a = await phone('a');
    b = await phone('b');
    c = await phone('c');
  });
  after(async () => {
    // Those started, if one failed to.
    await Promise.all([a, b, c].map((p) => p?.stop()));
  });

  async function connect(caller: Baresip, callee: Baresip): Promise<void> {
    await caller.dial(callee.uri);
    const incoming = await callee.waitFor('CALL_INCOMING');
    assert.equal(incoming.peeruri, `sip:${caller.name}@127.0.0.1`);
    await callee.answer();
    for (const side of [caller, callee]) assert.equal((await side.waitFor('CALL_ESTABLISHED')).class, 'call');
  }

  test('B answers, each receives the other’s tone, hang-up closes both sides', async () => {
    await connect(a, b);
    await sleep(3_000);
    await a.hangup();
    assert.equal((await a.waitFor('CALL_CLOSED')).param, 'Connection reset by user');
    assert.equal((await b.waitFor('CALL_CLOSED')).param, 'Connection reset by peer');

    await makeSilentWav(join(work, 'silent.wav'), 3);
    const silent = await audioEnergy(join(work, 'silent.wav'));
    for (const [side, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const received = await audioEnergy(join(work, `${side.name}-received.wav`));
      const expectedHz = TONES[peer.name as keyof typeof TONES];
      const figures = `${side.name} received ${JSON.stringify(received)}; silence ${JSON.stringify(silent)}`;
      assert.ok(received.seconds >= 1, figures);
      assert.ok(received.rms > 0.1 && received.rms > 100 * silent.rms, figures);
      // The peer's tone, not an echo of its own.
      assert.ok(Math.abs(received.hz - expectedHz) < expectedHz * 0.1, figures);
    }
  });

  test('DTMF sent by A arrives at B as RFC 4733 telephone-events', async () => {
    await connect(a, b);
    await a.sendDtmf('123#');
    const digits: string[] = [];
    while (digits.length < 4) digits.push((await b.waitFor('CALL_DTMF_START')).param ?? '');
    assert.deepEqual(digits, ['1', '2', '3', '#']);
    await b.hangup();
    await Promise.all([a.waitFor('CALL_CLOSED'), b.waitFor('CALL_CLOSED')]);
  });

  test('hold and resume each send B a re-INVITE', async () => {
    await connect(a, b);
    await a.hold();
    assert.equal((await b.waitFor('CALL_REMOTE_SDP')).param, 'offer');
    await a.resume();
    assert.equal((await b.waitFor('CALL_REMOTE_SDP')).param, 'offer');
    await a.hangup();
    await Promise.all([a.waitFor('CALL_CLOSED'), b.waitFor('CALL_CLOSED')]);
  });

  test('B blind-transfers A to C: A calls C, B leaves', async () => {
    await connect(a, b);
    await b.transfer(c.uri);
    assert.equal((await a.waitFor('TRANSFER')).param, c.uri);
    const incoming = await c.waitFor('CALL_INCOMING');
    assert.equal(incoming.peeruri, 'sip:a@127.0.0.1');
    await c.answer();
    const [established] = await Promise.all([a.waitFor('CALL_ESTABLISHED'), c.waitFor('CALL_ESTABLISHED')]);
    assert.equal(established.peeruri, c.uri);
    assert.equal((await b.waitFor('CALL_CLOSED')).param, 'Call transfered');
    await c.hangup();
    await a.nextEvent((event) => event.type === 'CALL_CLOSED' && event.peeruri === c.uri);
    await c.waitFor('CALL_CLOSED');
  });
});

describe('registration through an outbound proxy with digest auth', () => {
  /** A registrar (SIPp) that challenges once and accepts only alice's password. */
  async function registrar(): Promise<{ port: number; done: Promise<unknown> }> {
    const scenario = join(work, 'registrar.xml');
    writeFileSync(scenario, REGISTRAR_XML);
    const [port, controlPort, mediaPort] = [await freePort(), await freePort(), await freePort()];
    const args = ['-sf', scenario, '-i', '127.0.0.1', '-p', String(port), '-cp', String(controlPort), '-mp', String(mediaPort)];
    // One registration, then exit; never longer than 30 s.
    args.push('-m', '1', '-recv_timeout', '20000', '-timeout', '30', '-nostdin');
    const done = promisify(execFile)('sipp', args, { maxBuffer: 16 << 20 });
    // Awaited by the test once the phone is done; a test that fails first must not leave it unhandled.
    done.catch(() => {});
    return { port, done };
  }

  test('the right password registers (REGISTER_OK)', async () => {
    const { port, done } = await registrar();
    const alice = await phone('a', { username: 'alice', password: 'alice-pass', domain: 'callstack.test', registrar: { host: '127.0.0.1', port } });
    try {
      await alice.registered(15_000);
    } finally {
      await alice.stop();
    }
    await done;
  });

  test('a wrong password is refused (REGISTER_FAIL with the reason)', async () => {
    const { port, done } = await registrar();
    const alice = await phone('a', { username: 'alice', password: 'wrong', domain: 'callstack.test', registrar: { host: '127.0.0.1', port } });
    try {
      await assert.rejects(alice.registered(15_000), /REGISTER_FAIL: 403 Forbidden/);
    } finally {
      await alice.stop();
    }
    await done;
  });
});

describe('rtpengine in userspace', () => {
  const sockets: Socket[] = [];
  let client: Client;
  after(() => {
    for (const socket of sockets) socket.close();
    client?.close();
  });

  test('answers ping, rewrites an offer and an answer to its own ports, forwards RTP, deletes the call', async () => {
    // A window of the range kept for rtpengine (43000-43999), so parallel runs rarely meet.
    const portMin = 43_000 + 100 * Math.floor(Math.random() * 10);
    const rtpengine = await startRtpengine({ logFile: join(work, 'rtpengine.log'), portMin, portMax: portMin + 99 });
    try {
      client = new Client({ timeout: 5_000 });
      const ng = [rtpengine.ngPort, rtpengine.ngHost] as const;
      assert.equal((await client.ping(...ng)).result, 'pong');

      const [alice, bob] = await Promise.all([udpSocket(), udpSocket()]);
      sockets.push(alice, bob);
      const call = { 'call-id': `test-${process.pid}`, 'from-tag': 'alice-tag' };
      const offer = await client.offer(...ng, { ...call, sdp: plainSdp(alice.address().port) });
      assert.equal(offer.result, 'ok', JSON.stringify(offer));
      const toBob = mediaPort(offer.sdp);
      assert.ok(toBob >= portMin && toBob <= portMin + 99, offer.sdp);
      assert.match(offer.sdp ?? '', /^c=IN IP4 127\.0\.0\.1\r$/m);
      const answer = await client.answer(...ng, { ...call, 'to-tag': 'bob-tag', sdp: plainSdp(bob.address().port) });
      assert.equal(answer.result, 'ok', JSON.stringify(answer));
      const toAlice = mediaPort(answer.sdp);
      assert.ok(toAlice >= portMin && toAlice <= portMin + 99 && toAlice !== toBob, answer.sdp);

      // Alice sends to the port the answer gave her; bob must get it from the port the offer gave him.
      const received = new Promise<{ port: number; size: number }>((resolve) =>
        bob.once('message', (message, from) => resolve({ port: from.port, size: message.length })),
      );
      const packet = rtpPacket();
      const sending = setInterval(() => alice.send(packet, toAlice, '127.0.0.1'), 20);
      try {
        assert.deepEqual(await received, { port: toBob, size: packet.length });
      } finally {
        clearInterval(sending);
      }

      assert.equal((await client.delete(...ng, call)).result, 'ok');
    } finally {
      await rtpengine.stop();
    }
  });
});

function udpSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

function plainSdp(port: number): string {
  return [
    'v=0',
    `o=- ${port} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function mediaPort(sdp: string | undefined): number {
  const match = /^m=audio (\d+) RTP\/AVP /m.exec(sdp ?? '');
  assert.ok(match, `no audio m-line in ${sdp}`);
  return Number(match[1]);
}

/** One 20 ms PCMU packet (RTP version 2, payload type 0). */
function rtpPacket(): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header.writeUInt16BE(1, 2);
  header.writeUInt32BE(160, 4);
  header.writeUInt32BE(0x1234_5678, 8);
  return Buffer.concat([header, Buffer.alloc(160, 0xff)]);
}

const REGISTRAR_XML = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="registrar with digest">
  <recv request="REGISTER" />
  <send>
    <![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="callstack.test", nonce="47364c23432d2e131a5fb210812c", algorithm=MD5
Content-Length: 0

]]>
  </send>
  <recv request="REGISTER">
    <action>
      <verifyauth assign_to="authvalid" username="alice" password="alice-pass" />
    </action>
  </recv>
  <nop hide="true" test="authvalid" next="accepted" />
  <send next="end">
    <![CDATA[
SIP/2.0 403 Forbidden
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
  </send>
  <label id="accepted" />
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Contact:];expires=600
Content-Length: 0

]]>
  </send>
  <label id="end" />
</scenario>
`;

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as v from 'valibot';
import * as api from './api.ts';
import { MediaNodeEvent } from './mediaControl.ts';
import { NodeRegistration } from './fleet.ts';
import { parseClientMessage } from './signaling.ts';

const token = 'a'.repeat(32);
const password = 'correct horse battery';

/** A valid body of every REST request schema; every string in it is a field to spoil. */
const REQUESTS: [string, v.GenericSchema, Record<string, unknown>][] = [
  ['LoginRequest', api.LoginRequest, { email: 'alice@example.com', password }],
  ['RefreshRequest', api.RefreshRequest, { refreshToken: token }],
  ['SignupRequest', api.SignupRequest, { organisation: 'Acme Ltd', displayName: 'Alice Liddell', email: 'alice@example.com', password }],
  ['CreateInviteRequest', api.CreateInviteRequest, { email: 'bob@example.com', role: 'user' }],
  ['AcceptInviteRequest', api.AcceptInviteRequest, { token, displayName: 'Bob', password }],
  ['ChangeRoleRequest', api.ChangeRoleRequest, { role: 'admin' }],
  ['CreateApiKeyRequest', api.CreateApiKeyRequest, { name: 'CRM sync', role: 'operator' }],
  ['ChangePasswordRequest', api.ChangePasswordRequest, { currentPassword: password, newPassword: `${password}!` }],
  ['PasswordResetRequest', api.PasswordResetRequest, { email: 'alice@example.com' }],
  ['PasswordResetConfirmRequest', api.PasswordResetConfirmRequest, { token, newPassword: password }],
  ['CreateContactRequest (user)', api.CreateContactRequest, { kind: 'user', userId: 'u-1', displayName: 'Carol' }],
  ['CreateContactRequest (external)', api.CreateContactRequest, { kind: 'external', phone: '+44 20 7946 0958', displayName: 'Dentist' }],
  ['UpdateContactRequest', api.UpdateContactRequest, { displayName: 'Dr Who', phone: '+1 (555) 010-9999' }],
  ['EraseAccountRequest', api.EraseAccountRequest, { password }],
];

/** The path of every string in a JSON value. */
function stringPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, Array.isArray(value) ? Number(key) : key]));
}

function withString(value: unknown, path: (string | number)[], replace: (text: string) => string): unknown {
  if (path.length === 0) return replace(value as string);
  const copy = structuredClone(value) as Record<string | number, unknown>;
  copy[path[0]!] = withString(copy[path[0]!], path.slice(1), replace);
  return copy;
}

function insert(text: string, bad: string, at: number): string {
  const i = at % (text.length + 1);
  return text.slice(0, i) + bad + text.slice(i);
}

/** A NUL or a lone surrogate, put anywhere into a string (the enum fields are spoiled as well). */
const spoil = fc.record({ bad: fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff'), at: fc.nat() });

test("every sample body is valid (so a refusal below is the spoiled field's)", () => {
  for (const [name, schema, body] of REQUESTS) assert.ok(v.safeParse(schema, body).success, name);
});

/** Passwords being checked are taken as sent: they are only hashed, and older ones may hold anything. */
const CHECKED_AS_SENT = new Set(['LoginRequest.password', 'ChangePasswordRequest.currentPassword', 'EraseAccountRequest.password']);

test('a NUL or a lone surrogate in any string field of any REST request is refused', () => {
  for (const [name, schema, body] of REQUESTS) {
    for (const path of stringPaths(body)) {
      if (CHECKED_AS_SENT.has(`${name}.${path.join('.')}`)) continue;
      fc.assert(
        fc.property(spoil, ({ bad, at }) => {
          const spoiled = withString(body, path, (text) => insert(text, bad, at));
          assert.equal(v.safeParse(schema, spoiled).success, false, `${name}.${path.join('.')}: ${JSON.stringify(spoiled)}`);
        }),
        { numRuns: 30 },
      );
    }
  }
});

test('a password being checked is taken as sent, so an account whose password predates the checks can still sign in', () => {
  for (const field of CHECKED_AS_SENT) {
    const [name, key] = field.split('.') as [string, string];
    const [, schema, body] = REQUESTS.find(([requestName]) => requestName === name)!;
    const odd = { ...body, [key]: 'pass\udfffword\u0000' };
    assert.equal((v.parse(schema, odd) as Record<string, unknown>)[key], odd[key], field);
  }
});

const uuid = '0b5f6a3e-2d7c-4a51-9d62-2f1e8c3b7a90';
const rtpParameters = {
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', clockRate: 48000, payloadType: 111, parameters: { useinbandfec: 1, 'sprop-stereo': 0 } }],
  encodings: [{ ssrc: 1, rid: 'r0' }],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }],
  rtcp: { cname: 'abc' },
};

/** Client frames with every kind of string the sockets carry, mediasoup's pass-through fields included. */
const FRAMES: Record<string, unknown>[] = [
  { type: 'call.offer', ref: 'r1', callId: 'c-1', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
  { type: 'call.ice', ref: 'r2', callId: 'c-1', candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0', usernameFragment: 'uf' } },
  { type: 'presence.set', ref: 'r3', status: 'away' },
  {
    type: 'room.transport.connect',
    ref: 'r4',
    roomId: 'r-1',
    transportId: uuid,
    connect: { transport: 'webrtc', dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] } },
  },
  { type: 'room.produce', ref: 'r5', roomId: 'r-1', transportId: uuid, kind: 'audio', source: 'mic', rtpParameters },
  {
    type: 'room.consume',
    ref: 'r6',
    roomId: 'r-1',
    transportId: uuid,
    producerId: uuid,
    rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, preferredPayloadType: 100 }] },
  },
];

test("a NUL or a lone surrogate anywhere in a client frame is refused, in mediasoup's pass-through fields too", () => {
  for (const frame of FRAMES) {
    assert.ok(parseClientMessage(JSON.stringify(frame)).ok, String(frame.type));
    for (const path of stringPaths(frame)) {
      fc.assert(
        fc.property(spoil, ({ bad, at }) => {
          const spoiled = withString(frame, path, (text) => insert(text, bad, at));
          assert.equal(parseClientMessage(JSON.stringify(spoiled)).ok, false, `${String(frame.type)}.${path.join('.')}`);
        }),
        { numRuns: 10 },
      );
    }
  }
  const key = parseClientMessage(JSON.stringify({ ...FRAMES[4], rtpParameters: { ...rtpParameters, rtcp: { 'c\u0000name': 'abc' } } }));
  assert.equal(key.ok, false, 'keys are strings too');
});

test('node registrations and node events refuse them too', () => {
  const registration = {
    kind: 'media',
    instanceId: 'i-0abc',
    region: 'eu-west-1',
    availabilityZone: 'eu-west-1a',
    publicIp: '203.0.113.7',
    privateIp: '10.0.0.7',
    hostname: 'media-1',
    draining: false,
    controlUrl: 'http://203.0.113.7:8443',
    rtcPorts: { min: 40000, max: 49999 },
  };
  const event = { type: 'producer.closed', nodeId: 'media-1', at: 1, roomId: 'r-1', peerId: 'p-1', producerId: uuid, reason: 'closed' };
  for (const [schema, body] of [
    [NodeRegistration, registration],
    [MediaNodeEvent, event],
  ] as const) {
    assert.ok(v.safeParse(schema, body).success);
    for (const path of stringPaths(body)) {
      for (const bad of ['\u0000', '\ud800']) {
        assert.equal(
          v.safeParse(
            schema,
            withString(body, path, (text) => insert(text, bad, text.length)),
          ).success,
          false,
          path.join('.'),
        );
      }
    }
  }
});

test('free text is trimmed, NFC and counted in characters; passwords and tokens stay as sent', () => {
  const signup = v.parse(api.SignupRequest, {
    organisation: '  Cafe\u0301  ',
    displayName: '😀'.repeat(100),
    email: ' Alice@Example.com ',
    password: ` ${'😀'.repeat(10)} `,
  });
  assert.equal(signup.organisation, 'Caf\u00e9');
  assert.equal(signup.email, 'alice@example.com');
  assert.equal(signup.password, ` ${'😀'.repeat(10)} `);
  assert.equal(v.safeParse(api.SignupRequest, { ...signup, displayName: '😀'.repeat(101) }).success, false);
  assert.equal(v.safeParse(api.SignupRequest, { ...signup, password: '😀'.repeat(9) }).success, false, 'at least 10 characters, not UTF-16 units');
  assert.equal(v.safeParse(api.SignupRequest, { ...signup, organisation: 'A' }).success, false);
  assert.equal(v.safeParse(api.CreateApiKeyRequest, { name: 'tab\there', role: 'user' }).success, false, 'a name is one line');
  assert.deepEqual(v.parse(api.CreateContactRequest, { kind: 'external', phone: '+44 20\t7946 0958\n', displayName: 'Pasted' }), {
    kind: 'external',
    phone: '+442079460958',
    displayName: 'Pasted',
  });
});

/**
 * Every parser of a wire message takes anything a peer can send (any JSON, any text, any bytes)
 * and answers with the message or a typed error: it never throws, and an error names a stable code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as v from 'valibot';
import { ErrorCode } from './errors.ts';
import { MediaNodeEvent, ControlRequest } from './mediaControl.ts';
import { NodeRegistration } from './fleet.ts';
import { parsePresenceClientMessage, parsePresenceServerMessage } from './presence.ts';
import { parseClientMessage, parseServerMessage } from './signaling.ts';

const CODES = new Set<string>(Object.values(ErrorCode));
const PARSERS = { parseClientMessage, parseServerMessage, parsePresenceClientMessage, parsePresenceServerMessage };

/** What arrives on a socket: JSON of any shape (often with a known `type`), text, or raw bytes. */
const TYPES = ['ping', 'call.invite', 'call.offer', 'call.ice', 'room.join', 'room.produce', 'quality.report', 'presence.set', 'presence.snapshot', 'hello'];
const frame = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record({ type: fc.constantFrom(...TYPES), ref: fc.option(fc.string()) }, { requiredKeys: ['type'] })
    .chain((base) => fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 }).map((rest) => JSON.stringify({ ...rest, ...base }))),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => bytes.buffer as ArrayBuffer),
);

test('every socket parser answers any frame with the message or a typed error, never by throwing', () => {
  for (const [name, parse] of Object.entries(PARSERS)) {
    fc.assert(
      fc.property(frame, (raw) => {
        const result = parse(raw);
        if (!result.ok) {
          assert.ok(CODES.has(result.code), `${name}: ${result.code}`);
          assert.equal(typeof result.message, 'string');
        }
      }),
      { numRuns: 300 },
    );
  }
});

test('the node-facing schemas refuse anything malformed without throwing', () => {
  for (const [name, schema] of Object.entries({ ControlRequest, MediaNodeEvent, NodeRegistration })) {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        assert.doesNotThrow(() => v.safeParse(schema, value), name);
      }),
      { numRuns: 300 },
    );
  }
});

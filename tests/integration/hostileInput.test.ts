/**
 * No input makes the edge answer 5xx. Every route of the OpenAPI description is called with
 * generated hostile input (bodies of any shape, strings with NUL, control characters and lone
 * surrogates, odd content types, hostile query and path parameters), signed in as an admin, against
 * the real stack and PostgreSQL; each answer must be a typed refusal or a success, never a 500.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { createTenant, login, type TestTenant } from '../lib/fixtures.ts';
import { socketUrl } from '../lib/SocketClient.ts';
import { stack } from '../lib/stack.ts';

interface Operation {
  parameters?: { name: string; in: 'path' | 'query' }[];
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
  security?: Record<string, string[]>[];
}

/** Strings people and attackers type: NUL, controls, lone surrogates, RTL marks, long runs, SQL and path tricks. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    'Probe\u0000Fuzz',
    'Probe\udfff\ud800',
    '\ud800',
    '\u202egnp.exe',
    "'; drop table users; --",
    '../../etc/passwd',
    '%00',
    '%',
    '_',
    '\\',
    'a'.repeat(5_000),
    '',
    ' ',
    '+44 20 7946 0958',
    'x@example.test',
  ),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

type JsonSchema = {
  type?: string | string[];
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
};

/** A value the schema accepts, as far as its JSON Schema tells (emails, lengths, enums, nesting). */
function validValue(schema: JsonSchema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const variant = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (variant) return validValue(variant);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      if (schema.format === 'email') return `probe-${crypto.randomUUID().slice(0, 8)}@example.test`;
      return 'Probe value 12345'.padEnd(schema.minLength ?? 0, 'x').slice(0, schema.maxLength ?? 200);
    case 'number':
    case 'integer':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, validValue(property)]));
    default:
      return 'probe';
  }
}

/**
 * Bodies of every shape, and above all the ones that get furthest: a body the schema accepts in
 * every field but one, which holds a hostile value.
 */
function bodyFor(operation: Operation): fc.Arbitrary<string> {
  const schema = (operation.requestBody?.content['application/json']?.schema ?? {}) as JsonSchema;
  const properties = Object.keys(schema.properties ?? {});
  const valid = validValue(schema) as Record<string, unknown>;
  const oneBadField =
    properties.length === 0 ? fc.constant(valid) : fc.tuple(fc.constantFrom(...properties), hostileValue).map(([name, value]) => ({ ...valid, [name]: value }));
  const shaped = fc.record(Object.fromEntries(properties.map((name) => [name, hostileValue])), { requiredKeys: [] });
  return fc.oneof(
    { weight: 4, arbitrary: oneBadField.map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(valid)) },
    { weight: 1, arbitrary: shaped.map((body) => JSON.stringify(body)) },
    { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.oneof(hostileString, fc.constantFrom('', '{', '{"a":', 'null', '[]', '{"__proto__":{"admin":true}}', '\uFEFF{}')) },
  );
}

const LONE_SURROGATE = /([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/;

/** Percent-encodes like a browser would, and a lone surrogate as the bytes a hand-made URL would carry (CESU-8, not valid UTF-8). */
function urlEncode(value: string): string {
  return value
    .split(LONE_SURROGATE)
    .map((part) =>
      LONE_SURROGATE.test(part)
        ? `%ED%${(0x80 | ((part.charCodeAt(0) >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (part.charCodeAt(0) & 0x3f)).toString(16).toUpperCase()}`
        : encodeURIComponent(part),
    )
    .join('');
}

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '') },
);

/**
 * Each probe comes from an address of its own: hundreds of valid sign-ups from one address would
 * (rightly) lock it by the per-IP throttles, and every later test signing up from 127.0.0.1 with it.
 */
function probeAddress(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  return `198.19.${bytes[0]}.${bytes[1]}`;
}

describe('hostile input on every route answers without a 5xx', () => {
  let tenant: TestTenant;
  let token: string;
  let operations: [string, string, Operation][];
  before(async () => {
    tenant = await createTenant();
    token = (await login(tenant.users.alice)).accessToken;
    const document = (await (await fetch(`${stack.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => [method, path, operation] as [string, string, Operation]),
    );
  });

  test('every route, generated input', { timeout: 600_000 }, async () => {
    assert.ok(operations.length > 30, 'the description lists the routes');
    const seen = new Map<number, number>();
    for (const [method, path, operation] of operations) {
      const queryNames = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileString, { minLength: 4, maxLength: 4 }),
          fc.record(Object.fromEntries(queryNames.map((name) => [name, hostileString])), { requiredKeys: [] }),
          operation.requestBody ? bodyFor(operation) : fc.constant(undefined),
          contentType,
          async (pathValues, query, body, type) => {
            let index = 0;
            const concrete = path.replace(/\{[^}]+\}/g, () => urlEncode(pathValues[index++]!) || 'x');
            const search = Object.entries(query)
              .map(([name, value]) => `${name}=${urlEncode(value ?? '')}`)
              .join('&');
            const response = await fetch(`${stack.url}${concrete}${search ? `?${search}` : ''}`, {
              method: method.toUpperCase(),
              headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': probeAddress(), ...(type ? { 'content-type': type } : {}) },
              body,
            });
            const text = await response.text();
            seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
            assert.ok(response.status < 500, `${method.toUpperCase()} ${concrete}?${search} answered ${response.status}: ${text.slice(0, 300)}`);
            if (response.status >= 400) assert.match(JSON.parse(text).error.code, /^[a-z_]+$/);
          },
        ),
        // `npm run fuzz` asks for more (and a random seed).
        { numRuns: Number(process.env.CALLSTACK_FUZZ_RUNS ?? 25) },
      );
    }
    // The property is only worth something if inputs got past the pipeline sometimes, and were refused other times.
    assert.ok(
      [...seen.keys()].some((status) => status < 300),
      `statuses seen: ${JSON.stringify([...seen])}`,
    );
    assert.ok((seen.get(400) ?? 0) > 0 && (seen.get(415) ?? 0) > 0, `statuses seen: ${JSON.stringify([...seen])}`);
  });

  test('every field, query and path parameter of every route, each holding each dangerous string, the rest valid', { timeout: 600_000 }, async () => {
    const dangerous = ['Probe\u0000Fuzz', 'Probe\udfff\ud800', 'bell\u0007', '\u202eevil', 'x'.repeat(20_000)];
    const failures: string[] = [];
    let requests = 0;
    for (const [method, path, operation] of operations) {
      const schema = (operation.requestBody?.content['application/json']?.schema ?? {}) as JsonSchema;
      const valid = operation.requestBody ? (validValue(schema) as Record<string, unknown>) : undefined;
      const queryNames = (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name);
      const pathCount = [...path.matchAll(/\{[^}]+\}/g)].length;
      const variants: { label: string; pathValues: string[]; query: string; body: unknown }[] = [];
      for (const value of dangerous) {
        for (const name of Object.keys(schema.properties ?? {}))
          variants.push({ label: `body.${name}`, pathValues: [], query: '', body: { ...valid, [name]: value } });
        for (const name of queryNames) variants.push({ label: `query.${name}`, pathValues: [], query: `${name}=${urlEncode(value)}`, body: valid });
        for (let position = 0; position < pathCount; position++)
          variants.push({
            label: `path[${position}]`,
            pathValues: Array.from({ length: pathCount }, (_, i) => (i === position ? value : 'x')),
            query: '',
            body: valid,
          });
      }
      for (const variant of variants) {
        let index = 0;
        const concrete = path.replace(/\{[^}]+\}/g, () => urlEncode(variant.pathValues[index++] ?? 'x'));
        const url = `${stack.url}${concrete}${variant.query ? `?${variant.query}` : ''}`;
        const response = await fetch(url, {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': probeAddress(), 'content-type': 'application/json' },
          body: variant.body === undefined ? undefined : JSON.stringify(variant.body),
        });
        requests++;
        if (response.status >= 500)
          failures.push(`${method.toUpperCase()} ${path} ${variant.label}: ${response.status} ${(await response.text()).slice(0, 200)}`);
        else await response.body?.cancel();
      }
    }
    assert.ok(requests > 200, `${requests} requests`);
    assert.deepEqual(failures, []);
  });

  test('the probes that once reached Postgres are refused with 400', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const cases: [string, string, unknown][] = [
      ['POST', '/api/signup', { organisation: 'Probe Org', email: 'probe-nul@example.test', password: 'a-long-password', displayName: 'Probe\u0000Fuzz' }],
      [
        'POST',
        '/api/signup',
        { organisation: 'Probe Org', email: 'probe-surrogate@example.test', password: 'a-long-password', displayName: 'Probe\udfff\ud800' },
      ],
      ['POST', '/api/admin/api-keys', { name: 'Probe\u0000Fuzz', role: 'user' }],
      ['POST', '/api/contacts', { displayName: 'Probe\u0000Fuzz', phone: '+442079460958' }],
      ['GET', '/api/contacts?q=%00', undefined],
      ['GET', '/api/admin/audit?actor=%00', undefined],
    ];
    for (const [method, path, body] of cases) {
      const response = await fetch(`${stack.url}${path}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
      assert.equal(response.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${await response.clone().text()}`);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'bad_request');
    }
  });

  test('a token whose name holds a lone surrogate still opens a WebSocket', async () => {
    const user = tenant.users.bob;
    const odd = await new SignJWT({ tid: user.tenantId, role: user.role, name: 'Bob \udfff' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject(user.id)
      .setIssuer('callstack')
      .setAudience('callstack-api')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(stack.jwtSecret));
    const ws = new WebSocket(await socketUrl(stack.url, '/api/signaling', odd, 'odd-name'));
    const hello = await new Promise<{ type: string; userId: string }>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(data.toString()) as { type: string; userId: string }));
      ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
      ws.once('error', reject);
    });
    ws.close();
    assert.deepEqual([hello.type, hello.userId], ['hello', user.id]);
  });
});

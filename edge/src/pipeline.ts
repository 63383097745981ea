/**
 * The one request pipeline of the REST API. Each route (routes.ts) declares how its caller
 * authenticates, the permission it needs, and the schemas of its body, query and path; the
 * pipeline does all of it once, in this order, before the handler runs:
 *
 *   1. who is calling, by the route's scheme (401), and its permission (403); a WebSocket route
 *      first wants an upgrade (400). Node-signed routes read their body first, as the signature
 *      covers its raw bytes (the body rules of step 3 apply to it).
 *   2. path parameters and query (each a clean `Text` unless the route says otherwise) -> 400
 *   3. body: `Content-Type: application/json` (415), at most 16 KiB in bytes (413), UTF-8 and
 *      JSON (400), then its schema (400, naming the first failing field)
 *
 * The handler receives typed `principal`, `body`, `query` and `params`. This is also where
 * hostile input stops: nothing reaches a handler (or Postgres) that its schemas did not accept.
 */
import { describeIssues, ErrorCode, Text, verifyControlSignature, verifyNodeRegistration, CONTROL_SIGNATURE_HEADER } from '@callstack/protocol';
import type { IRequest } from 'itty-router';
import type Stripe from 'stripe';
import * as v from 'valibot';
import { authenticate } from './auth/authenticate.ts';
import { authorize, type Permission } from './auth/permissions.ts';
import { verifySocketTicket, type Principal } from './auth/tokens.ts';
import { verifiedStripeEvent } from './billing/stripe.ts';
import { config } from './config.ts';
import type { Env } from './env.ts';
import { ApiError } from './errors.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * How a caller proves who they are: a bearer access token or API key; a refresh token in the body;
 * an access token in the query (WebSocket upgrades, where browsers cannot set headers); a media
 * node's signature over the body (`t=,v1=` registrations, `t=,n=,v1=` events).
 */
export type RouteAuth = 'none' | 'bearer' | 'refresh_token' | 'socket_ticket' | 'node_registration' | 'node_event' | 'stripe_signature';

/** A media node's signed event: its nonce, which the room refuses to see twice (replays). */
export interface NodeEventCaller {
  nonce: string;
}

/** A socket upgrade's caller: a user whose ticket checked out; the handler has it spent (signaling/connect.ts). */
export type SocketCaller = Principal & { ticketId: string };

/** What authentication proves: a user or API key; a socket's user and ticket; a node event's nonce; a Stripe webhook's event; nothing more for the rest. */
type PrincipalOf<A extends RouteAuth> = A extends 'bearer'
  ? Principal
  : A extends 'socket_ticket'
    ? SocketCaller
    : A extends 'node_event'
      ? NodeEventCaller
      : A extends 'stripe_signature'
        ? Stripe.Event
        : null;

/** A query parameter: its schema (input is the raw string, or undefined when absent) and its description. */
export interface QueryParameter<T = unknown> {
  schema: v.GenericSchema<string | undefined, T>;
  description: string;
}
type QuerySpec = Record<string, QueryParameter>;
type QueryOf<Q extends QuerySpec | undefined> = Q extends QuerySpec ? { [K in keyof Q]: v.InferOutput<Q[K]['schema']> } : Record<string, never>;
type BodyOf<B extends v.GenericSchema | undefined> = B extends v.GenericSchema ? v.InferOutput<B> : undefined;

/** What a handler receives: the checked request, its caller, body, query and path parameters. */
export interface HandlerInput<A extends RouteAuth, Body, Query> {
  request: IRequest;
  env: Env;
  ctx: ExecutionContext;
  principal: PrincipalOf<A>;
  body: Body;
  query: Query;
  /** Path parameters (`:id`), each a clean Text of 1-128 characters. */
  params: Record<string, string>;
}

/** A route's handler input, typed by its schemas. */
export type RouteInput<A extends RouteAuth, B extends v.GenericSchema | undefined, Q extends QuerySpec | undefined> = HandlerInput<A, BodyOf<B>, QueryOf<Q>>;

interface RouteBase<A extends RouteAuth, B extends v.GenericSchema | undefined, Q extends QuerySpec | undefined> {
  method: Method;
  /** itty-router pattern; `:name` segments become OpenAPI path parameters. */
  path: string;
  summary: string;
  tag: string;
  auth: A;
  body?: B;
  /** The largest JSON body taken (16 KiB unless a route needs more, as an upload does). */
  maxBodyBytes?: number;
  query?: Q;
  /** The success answer: status, and the schema of its JSON body when it has one. */
  success: { status: number; schema?: v.GenericSchema; description?: string };
  /** Refusals of the handler itself, beyond what the pipeline answers (described in OpenAPI). */
  errors?: ErrorCode[];
  handler: (input: RouteInput<A, B, Q>) => Promise<Response> | Response;
}

/**
 * A handler as a module declares it, typed by its route's scheme and body type (the schema's
 * output); routes.ts binds it to its schemas.
 */
export type Handler<A extends RouteAuth, Body = undefined, Query = Record<string, never>> = (
  input: HandlerInput<A, Body, Query>,
) => Promise<Response> | Response;

/** Bearer routes must name their permission; WebSocket routes may (every role may connect). */
export type RouteDefinition<A extends RouteAuth, B extends v.GenericSchema | undefined, Q extends QuerySpec | undefined> = RouteBase<A, B, Q> &
  (A extends 'bearer' ? { permission: Permission } : A extends 'socket_ticket' ? { permission?: Permission } : { permission?: never });

/** A route as the router and the OpenAPI generator see it. */
export interface RouteSpec {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  permission?: Permission;
  body?: v.GenericSchema;
  query?: QuerySpec;
  pathParameters: string[];
  success: { status: number; schema?: v.GenericSchema; description?: string };
  errors: ErrorCode[];
  serve: (request: IRequest, env: Env, ctx: ExecutionContext) => Promise<Response>;
}

const MAX_JSON_BODY_BYTES = 16 * 1024;
const PathParameter = Text({ min: 1, max: 128 });

/** Declares a route; the handler's input is typed by the declaration. */
export function route<A extends RouteAuth, B extends v.GenericSchema | undefined = undefined, Q extends QuerySpec | undefined = undefined>(
  definition: RouteDefinition<A, B, Q>,
): RouteSpec {
  const pathParameters = [...definition.path.matchAll(/:([A-Za-z_]\w*)/g)].map((match) => match[1]!);
  const querySchema = definition.query && v.object(Object.fromEntries(Object.entries(definition.query).map(([name, parameter]) => [name, parameter.schema])));
  return {
    method: definition.method,
    path: definition.path,
    summary: definition.summary,
    tag: definition.tag,
    auth: definition.auth,
    permission: definition.permission,
    body: definition.body,
    query: definition.query,
    pathParameters,
    success: definition.success,
    errors: definition.errors ?? [],
    serve: async (request, env, ctx) => {
      const signed = isSignedAuth(definition.auth);
      const signedBody = signed ? await readBodyText(request, definition.auth === 'stripe_signature' ? MAX_STRIPE_EVENT_BYTES : MAX_JSON_BODY_BYTES) : '';
      const principal = await authenticateCaller(definition, request, env, signedBody);
      const params = parseParams(request, pathParameters);
      const query = querySchema ? parseQuery(request, querySchema) : {};
      const body = definition.body ? parseJson(definition.body, signed ? signedBody : await readBodyText(request, definition.maxBodyBytes)) : undefined;
      return definition.handler({ request, env, ctx, principal, body, query, params } as RouteInput<A, B, Q>);
    },
  };
}

/** Routes a media node signs: the signature covers the raw body. */
export function isNodeAuth(auth: RouteAuth): boolean {
  return auth === 'node_registration' || auth === 'node_event';
}

/** Routes whose signature covers the raw body, which is read before anything else. */
export function isSignedAuth(auth: RouteAuth): boolean {
  return isNodeAuth(auth) || auth === 'stripe_signature';
}

function parseParams(request: IRequest, names: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of names) {
    const result = v.safeParse(PathParameter, request.params[name]);
    if (!result.success) throw new ApiError(ErrorCode.badRequest, `${name}: ${result.issues[0]?.message ?? 'invalid'}`);
    params[name] = result.output;
  }
  return params;
}

function parseQuery(request: Request, schema: v.GenericSchema): unknown {
  const search = new URL(request.url).searchParams;
  const input: Record<string, string> = {};
  // The first value of a repeated parameter counts, as URLSearchParams.get would return.
  for (const [name, value] of search) if (!(name in input)) input[name] = value;
  const result = v.safeParse(schema, input);
  if (!result.success) throw new ApiError(ErrorCode.badRequest, describeIssues(result.issues));
  return result.output;
}

/** A Stripe event holds a whole invoice with its lines: far more than a client's request. */
const MAX_STRIPE_EVENT_BYTES = 512 * 1024;

/** The body as text: JSON by its Content-Type, at most `limit` (16 KiB) of UTF-8 bytes. */
async function readBodyText(request: Request, limit = MAX_JSON_BODY_BYTES): Promise<string> {
  const type = request.headers.get('content-type');
  const mediaType = type?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new ApiError(ErrorCode.unsupportedMediaType, 'send the body as application/json');
  const declared = Number(request.headers.get('content-length'));
  if (declared > limit) throw new ApiError(ErrorCode.messageTooLarge, `request body exceeds ${limit} bytes`);
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > limit) throw new ApiError(ErrorCode.messageTooLarge, `request body exceeds ${limit} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(ErrorCode.badRequest, 'request body is not valid UTF-8');
  }
}

function parseJson<S extends v.GenericSchema>(schema: S, text: string): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(ErrorCode.badRequest, 'request body is not valid JSON');
  }
  const result = v.safeParse(schema, json);
  if (!result.success) throw new ApiError(ErrorCode.badRequest, describeIssues(result.issues));
  return result.output;
}

async function authenticateCaller(
  route: { auth: RouteAuth; permission?: Permission },
  request: Request,
  env: Env,
  body: string,
): Promise<Principal | SocketCaller | NodeEventCaller | Stripe.Event | null> {
  switch (route.auth) {
    case 'none':
    case 'refresh_token':
      return null;
    case 'bearer':
      return authenticate(request, env, route.permission!);
    case 'socket_ticket': {
      if (request.headers.get('Upgrade') !== 'websocket') throw new ApiError(ErrorCode.badRequest, 'expected a WebSocket upgrade');
      const ticket = new URL(request.url).searchParams.get('ticket');
      if (!ticket) throw new ApiError(ErrorCode.unauthorized, 'missing socket ticket (POST /api/sockets/ticket)');
      const { principal, id } = await verifySocketTicket(env, ticket);
      if (route.permission) authorize(principal, route.permission);
      return { ...principal, ticketId: id };
    }
    case 'node_registration': {
      const check = await verifyNodeRegistration(nodeSecret(env), request.headers.get(CONTROL_SIGNATURE_HEADER), body);
      if (!check.ok) throw new ApiError(check.code, check.message);
      return null;
    }
    case 'node_event': {
      const url = new URL(request.url);
      const check = await verifyControlSignature(nodeSecret(env), request.headers.get(CONTROL_SIGNATURE_HEADER), {
        method: request.method,
        path: url.pathname + url.search,
        body,
      });
      if (!check.ok) throw new ApiError(check.code, check.message);
      return { nonce: check.nonce };
    }
    case 'stripe_signature': {
      const event = await verifiedStripeEvent(env, body, request.headers.get('stripe-signature'));
      if (!event) throw new ApiError(ErrorCode.unauthorized, 'the Stripe-Signature is missing, wrong or older than 5 minutes');
      return event;
    }
    default:
      return route.auth satisfies never;
  }
}

function nodeSecret(env: Env): string {
  const secret = config(env).mediaControlSecret;
  if (!secret) throw new ApiError(ErrorCode.unauthorized, 'node requests are not configured on this edge');
  return secret;
}

/** Query parameters shared by list routes. */
/**
 * Query parameters shared by list routes. They are lenient where a client may be sloppy (a page
 * size out of range is clamped, a long search is cut, a flag is true only when it says `true`) and
 * strict only where it matters: no NUL, control character or lone surrogate gets through.
 */
export const queryParameters = {
  /** A page size, clamped to 1..`max`; `fallback` when absent or not a number. */
  limit: (max: number, fallback: number): QueryParameter<number> => ({
    schema: v.pipe(
      v.optional(v.string()),
      v.transform((value) => {
        const limit = Math.trunc(Number(value));
        return Number.isFinite(limit) && limit !== 0 ? Math.min(max, Math.max(1, limit)) : fallback;
      }),
    ),
    description: `1-${max} (clamped), default ${fallback}`,
  }),
  /** Optional free text (clean, NFC), cut to its first `max` characters. */
  text: (max: number, description: string): QueryParameter<string | undefined> => ({
    schema: v.optional(
      v.pipe(
        Text({ max: Number.MAX_SAFE_INTEGER }),
        v.transform((text) => [...text].slice(0, max).join('')),
      ),
    ),
    description: `${description} (at most ${max} characters are used)`,
  }),
  /** True only when it is `true`. */
  flag: (description: string): QueryParameter<boolean> => ({
    schema: v.pipe(
      v.optional(v.string()),
      v.transform((value) => value === 'true'),
    ),
    description,
  }),
};

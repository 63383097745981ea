/**
 * OpenAPI 3.1 description of the REST API, generated from the route table and the protocol's
 * valibot schemas (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
 */
import { ErrorCode, httpStatusOf } from '@callstack/protocol';
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { PERMISSIONS } from './auth/permissions.ts';
import { isNodeAuth, type RouteSpec } from './pipeline.ts';

type JsonObject = Record<string, unknown>;

const cache = new WeakMap<readonly RouteSpec[], JsonObject>();

export function openApiDocument(routes: readonly RouteSpec[]): JsonObject {
  let document = cache.get(routes);
  if (!document) {
    document = build(routes);
    cache.set(routes, document);
  }
  return document;
}

/** `/api/users/:id/role` → `/api/users/{id}/role`. */
export function openApiPath(ittyPath: string): string {
  return ittyPath.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

function build(routes: readonly RouteSpec[]): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CallStack edge API',
      version: '1',
      description: 'REST API of the CallStack edge. Errors are always `{"error":{"code","message"}}` with a stable code.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A 15-minute access token from sign-in, or an API key (`csk_…`).' },
        socketTicket: {
          type: 'apiKey',
          in: 'query',
          name: 'ticket',
          description:
            'A single-use socket ticket valid for 30 s (`POST /api/sockets/ticket`), for WebSocket upgrades: browsers cannot set headers on them, and the URL may end up in logs.',
        },
        stripeSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Stripe-Signature',
          description:
            'Stripe webhooks only: `t=<unix s>,v1=<hex of HMAC-SHA256("<t>.<body>")>` with the endpoint’s signing secret (STRIPE_WEBHOOK_SECRET); 300 s of skew.',
        },
        nodeSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CallStack-Signature',
          description:
            'Media/SIP/TURN nodes only: HMAC-SHA256 with MEDIA_CONTROL_SECRET. Registrations `t=<unix s>,v1=<hex of HMAC("<t>.<body>")>`; events `t=,n=<nonce>,v1=<hex of HMAC("<t>.<n>.POST.<path>.<body>")>`. 300 s / 60 s of skew.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { enum: Object.values(ErrorCode) }, message: { type: 'string' } },
            },
          },
        },
      },
    },
  };
}

function operation(route: RouteSpec): JsonObject {
  const pathParameters = route.pathParameters.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 128 } }));
  const queryParameters = Object.entries(route.query ?? {}).map(([name, parameter]) => ({
    name,
    in: 'query',
    required: false,
    description: parameter.description,
    schema: { type: 'string' },
  }));
  const roles = route.permission ? (PERMISSIONS[route.permission] as readonly string[]).join(', ') : undefined;
  return {
    operationId: `${route.method}${route.path.replace(/^\/api/, '').replace(/[/:.-]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
    summary: route.summary,
    tags: [route.tag],
    ...(route.permission && { description: `Permission \`${route.permission}\` (roles: ${roles}).`, 'x-permission': route.permission }),
    security: securityOf(route),
    ...(pathParameters.length + queryParameters.length > 0 && { parameters: [...pathParameters, ...queryParameters] }),
    ...(route.body && { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } }),
    responses: {
      [route.success.status]: {
        description: route.success.description ?? 'Success',
        ...(route.success.schema && { content: { 'application/json': { schema: jsonSchema(route.success.schema) } } }),
      },
      ...errorResponses(route),
      default: { description: 'Any other error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    },
  };
}

/**
 * The refusals a client can meet on this route, by status, each naming its codes: what the
 * pipeline answers for the route's inputs and scheme, what the route's handler adds, and what any
 * route may answer (rate limits at the edge's front, an unreachable database, an internal error).
 */
function errorResponses(route: RouteSpec): Record<string, JsonObject> {
  const codes = new Set<ErrorCode>([ErrorCode.databaseUnavailable, ErrorCode.internal, ...route.errors]);
  if (route.body || route.query || route.pathParameters.length > 0) codes.add(ErrorCode.badRequest);
  if (route.body) [ErrorCode.unsupportedMediaType, ErrorCode.messageTooLarge].forEach((code) => codes.add(code));
  if (route.pathParameters.length > 0) codes.add(ErrorCode.notFound);
  if (route.auth === 'bearer' || route.auth === 'socket_ticket') [ErrorCode.unauthorized, ErrorCode.tokenExpired].forEach((code) => codes.add(code));
  if (route.auth === 'refresh_token' || isNodeAuth(route.auth) || route.auth === 'stripe_signature') codes.add(ErrorCode.unauthorized);
  if (isNodeAuth(route.auth)) codes.add(ErrorCode.signatureExpired);
  if (route.permission) codes.add(ErrorCode.forbidden);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(httpStatusOf[code], [...(byStatus.get(httpStatusOf[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        String(status),
        {
          description: list.join(', '),
          'x-error-codes': list,
          content: {
            'application/json': {
              schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { properties: { code: { enum: list } } } } }] },
            },
          },
        },
      ]),
  );
}

function securityOf(route: RouteSpec): JsonObject[] {
  switch (route.auth) {
    case 'bearer':
      return [{ bearer: [] }];
    case 'socket_ticket':
      return [{ socketTicket: [] }];
    case 'node_registration':
    case 'node_event':
      return [{ nodeSignature: [] }];
    case 'stripe_signature':
      return [{ stripeSignature: [] }];
    case 'none':
    case 'refresh_token':
      return [];
    default:
      return route.auth satisfies never;
  }
}

/** Transforms and custom checks have no JSON Schema form; the description keeps the input shape. */
function jsonSchema(schema: v.GenericSchema): JsonObject {
  const { $schema: _dialect, ...rest } = toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'ignore' }) as JsonObject;
  return rest;
}

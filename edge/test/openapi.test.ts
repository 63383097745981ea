/**
 * What a client of the REST API relies on from its description: every route says how to
 * authenticate, what body it takes, and which errors it answers; and the edge really answers them.
 */
import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { issueAccessToken } from '../src/auth/tokens.ts';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: { type?: string; properties?: object; required?: string[]; anyOf?: unknown[]; oneOf?: unknown[] } }>;
  };
  responses: Record<string, { content?: Record<string, { schema: unknown }>; 'x-error-codes'?: string[] }>;
  'x-permission'?: string;
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

async function described(): Promise<[string, string, Operation][]> {
  const document = (await (await SELF.fetch('https://edge.test/api/openapi.json')).json()) as Document;
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => [method, path, operation] as [string, string, Operation]),
  );
}

const adminToken = () => issueAccessToken(env, { actorType: 'user', userId: 'u-admin', tenantId: 't-openapi', role: 'admin', displayName: 'Ada' });
/** `/api/users/{id}/role` with a sample id in each parameter. */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'sample-id');
const PUBLIC = new Set([
  '/api/health',
  '/api/openapi.json',
  '/api/auth/login',
  '/api/auth/password-reset',
  '/api/auth/password-reset/confirm',
  '/api/signup',
  '/api/signup/confirm',
  '/api/invites/accept',
]);

describe('OpenAPI description', () => {
  it('names a security scheme for every route but the public ones, and only schemes it defines', async () => {
    const document = (await (await SELF.fetch('https://edge.test/api/openapi.json')).json()) as Document;
    const operations = await described();
    expect(operations.length).toBeGreaterThan(30);
    for (const [method, path, operation] of operations) {
      const schemes = (operation.security ?? []).flatMap((entry) => Object.keys(entry));
      const refreshTokenRoute = path === '/api/auth/refresh' || path === '/api/auth/logout';
      if (PUBLIC.has(path) || refreshTokenRoute) expect(schemes, `${method} ${path}`).toEqual([]);
      else expect(schemes.length, `${method} ${path} names no security`).toBe(1);
      for (const scheme of schemes) expect(document.components.securitySchemes).toHaveProperty(scheme);
      if (schemes.includes('bearer')) expect(operation['x-permission'], `${method} ${path}`).toBeTruthy();
    }
  });

  it('describes every body as a JSON object schema and every path parameter', async () => {
    for (const [method, path, operation] of await described()) {
      const body = operation.requestBody?.content['application/json']?.schema;
      if (body) expect(body.type === 'object' || body.anyOf !== undefined || body.oneOf !== undefined, `${method} ${path}`).toBe(true);
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name);
      expect(declared.sort(), `${method} ${path}`).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort());
    }
    const login = (await described()).find(([method, path]) => method === 'post' && path === '/api/auth/login')![2];
    expect(login.requestBody!.content['application/json']!.schema.required).toEqual(['email', 'password']);
  });

  it('lists error responses with their codes on every route, in the error shape', async () => {
    for (const [method, path, operation] of await described()) {
      expect(operation.responses['500']?.['x-error-codes'], `${method} ${path}`).toContain('internal');
      expect(operation.responses['503']?.['x-error-codes'], `${method} ${path}`).toContain('database_unavailable');
      if (operation.requestBody) {
        expect(operation.responses['400']?.['x-error-codes'], `${method} ${path}`).toContain('bad_request');
        expect(operation.responses['415']?.['x-error-codes'], `${method} ${path}`).toContain('unsupported_media_type');
        expect(operation.responses['413']?.['x-error-codes'], `${method} ${path}`).toContain('message_too_large');
      }
      if (operation.security?.length) expect(operation.responses['401']?.['x-error-codes'], `${method} ${path}`).toContain('unauthorized');
      if (operation['x-permission']) expect(operation.responses['403']?.['x-error-codes'], `${method} ${path}`).toContain('forbidden');
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400)
          expect(JSON.stringify(response.content?.['application/json']?.schema), `${method} ${path} ${status}`).toContain('#/components/schemas/Error');
      }
    }
  });

  it('matches what the edge answers: 401 without credentials, 415 for a body that is not JSON', async () => {
    const token = await adminToken();
    for (const [method, path, operation] of await described()) {
      const url = `https://edge.test${concrete(path)}`;
      if (operation.security?.length && !path.startsWith('/api/fleet/')) {
        const response = await SELF.fetch(url, {
          method: method.toUpperCase(),
          headers: {
            'content-type': 'application/json',
            ...(path.startsWith('/api/signaling') || path.startsWith('/api/presence') ? { upgrade: 'websocket' } : {}),
          },
          body: operation.requestBody ? '{}' : undefined,
        });
        expect(response.status, `${method} ${path} without credentials`).toBe(401);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
      if (operation.requestBody) {
        const response = await SELF.fetch(url, {
          method: method.toUpperCase(),
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          body: '{}',
        });
        expect(response.status, `${method} ${path} with text/plain`).toBe(415);
        expect(operation.responses['415'], `${method} ${path}`).toBeDefined();
      }
    }
  });

  it('counts the body limit in bytes, not UTF-16 units', async () => {
    // 6,000 three-byte characters: 6,000 UTF-16 units but 18,000 bytes, over the 16 KiB limit.
    const body = JSON.stringify({ email: 'a@example.test', password: '€'.repeat(6_000) });
    const response = await SELF.fetch('https://edge.test/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
  });
});

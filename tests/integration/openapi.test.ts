/** The published API description matches the routes the edge really serves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { can, type Permission, type Role } from '@callstack/protocol';
import { api, createTenant, login } from '../lib/fixtures.ts';

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security: unknown[]; 'x-permission'?: Permission }>>;
}

test('/api/openapi.json is OpenAPI 3.1 and every operation in it is served', async () => {
  const { status, body } = await api<Document>('GET', '/api/openapi.json');
  assert.equal(status, 200);
  assert.equal(body.openapi, '3.1.0');
  const operations = Object.entries(body.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ path, method })));
  assert.ok(operations.length >= 30, `only ${operations.length} operations described`);
  for (const { path, method } of operations) {
    // Unauthenticated, with placeholder ids: a served route answers anything but "no such route".
    const response = await api<{ error?: { message: string } } | null>(method.toUpperCase(), path.replace(/\{\w+\}/g, 'placeholder'), {
      body: method === 'get' ? undefined : {},
    });
    assert.notEqual(response.body?.error?.message, 'no such route', `${method} ${path} is described but not served`);
  }
  const missing = await api<{ error: { message: string } }>('GET', '/api/not-a-route');
  assert.equal(missing.body.error.message, 'no such route');
});

test('the role matrix holds on every route the description lists with a permission', async () => {
  const { body } = await api<Document>('GET', '/api/openapi.json');
  const tenant = await createTenant();
  const tokens: Record<Role, string> = {
    admin: (await login(tenant.users.alice)).accessToken,
    operator: (await login(tenant.users.carol)).accessToken,
    user: (await login(tenant.users.bob)).accessToken,
  };
  let checked = 0;
  for (const [path, methods] of Object.entries(body.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const permission = operation['x-permission'];
      if (!permission) continue;
      for (const role of ['admin', 'operator', 'user'] as const) {
        // Placeholder ids and empty bodies: an allowed role gets past the check (404, 400 …), never 403.
        const response = await api<{ error?: { code: string } } | null>(method.toUpperCase(), path.replace(/\{\w+\}/g, 'placeholder'), {
          auth: tokens[role],
          body: method === 'get' ? undefined : {},
        });
        const forbidden = response.status === 403;
        assert.equal(forbidden, !can(role, permission), `${role} on ${method} ${path} (${permission}) answered ${response.status}`);
        assert.equal(response.status === 401, false, `${role} on ${method} ${path} was not authenticated`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 3 * 20, `only ${checked} route × role pairs checked`);
});

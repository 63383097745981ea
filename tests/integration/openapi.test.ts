/** The published API description matches the routes the edge really serves. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api } from '../lib/fixtures.ts';

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security: unknown[] }>>;
}

test('/api/openapi.json is OpenAPI 3.1 and every operation in it is served', async () => {
  const { status, body } = await api<Document>('GET', '/api/openapi.json');
  assert.equal(status, 200);
  assert.equal(body.openapi, '3.1.0');
  const operations = Object.entries(body.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ path, method })));
  assert.ok(operations.length >= 30, `only ${operations.length} operations described`);
  for (const { path, method } of operations) {
    // Unauthenticated, with placeholder ids: a served route answers anything but "no such route".
    const response = await api<{ error?: { message: string } } | null>(method.toUpperCase(), path.replace(/\{\w+\}/g, 'placeholder'), { body: method === 'get' ? undefined : {} });
    assert.notEqual(response.body?.error?.message, 'no such route', `${method} ${path} is described but not served`);
  }
  const missing = await api<{ error: { message: string } }>('GET', '/api/not-a-route');
  assert.equal(missing.body.error.message, 'no such route');
});

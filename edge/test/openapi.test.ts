import { describe, expect, it } from 'vitest';
import { router } from '../src/index.ts';
import { openApiDocument, openApiPath } from '../src/openapi.ts';

describe('OpenAPI description', () => {
  it('describes every route the router serves, with its method', () => {
    const document = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const served = router.routes.map(([method, , , path]) => `${method.toLowerCase()} ${openApiPath(path ?? '')}`);
    const described = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(served.length).toBeGreaterThan(30);
    expect(described.sort()).toEqual([...served].sort());
  });

  it('derives request bodies from the protocol schemas', () => {
    const document = openApiDocument() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>> };
    const login = document.paths['/api/auth/login']!.post!.requestBody!.content['application/json']!.schema;
    expect(login.required).toEqual(['email', 'password']);
  });
});

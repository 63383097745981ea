import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { assetHeadersFile, SECURITY_HEADERS } from '../src/securityHeaders.ts';
// The asset headers file as the build ships it (vite's raw import, which vitest supports).
import headersFile from '../../web/_headers?raw';

describe('security headers', () => {
  it('are on every API answer: success, refusal and unknown route', async () => {
    for (const path of ['/api/health', '/api/me', '/api/no-such-route']) {
      const response = await SELF.fetch(`https://edge.test${path}`);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), `${path} ${name}`).toBe(value);
    }
  });

  it('allow scripts, styles and connections from the app only, and no framing', () => {
    const policy = SECURITY_HEADERS['content-security-policy']!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toContain("frame-ancestors 'none'");
    expect(SECURITY_HEADERS['permissions-policy']).toContain('camera=(self)');
  });

  it('are the same on the static assets (web/_headers) as on the API', async () => {
    expect(headersFile).toBe(assetHeadersFile());
    for (const path of ['/', '/index.html', '/main.js', '/styles.css', '/calls']) {
      const response = await env.ASSETS.fetch(`https://edge.test${path}`);
      expect(response.status, path).toBe(200);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), `${path} ${name}`).toBe(value);
    }
  });
});

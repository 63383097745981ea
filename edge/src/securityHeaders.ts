/**
 * The security headers of every answer the edge gives: the API's (added by the Worker) and the web
 * app's static assets (`web/_headers`, which Cloudflare applies to assets the Worker never sees;
 * `web/build.mjs` copies it into the build, and a test holds it equal to `assetHeadersFile()`).
 *
 * The policy allows scripts, styles and connections from the app's own origin only (`'self'`
 * covers its WebSocket in CSP Level 3), no inline script or style, no frames of the app anywhere,
 * and camera, microphone and screen capture for the app itself only. TURN is not a fetch: ICE
 * candidates are outside `connect-src`, so the configured TURN servers need no entry.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** The `_headers` file of the static assets: the same headers on every path. */
export function assetHeadersFile(): string {
  return `/*\n${Object.entries(SECURITY_HEADERS)
    .map(([name, value]) => `  ${name}: ${value}`)
    .join('\n')}\n`;
}

/** The answer with the security headers set (a WebSocket upgrade is passed through as it is). */
export function withSecurityHeaders(response: Response): Response {
  if (response.status === 101 || response.webSocket) return response;
  const secured = new Response(response.body, response);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) secured.headers.set(name, value);
  return secured;
}

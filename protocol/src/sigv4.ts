/**
 * AWS Signature Version 4 for S3-compatible storage (AWS S3, MinIO, R2...): header signatures
 * for the media node's uploads and presigned URLs for the edge's downloads. Web Crypto only, so it
 * runs in workerd and in Node 20. Paths are encoded once (RFC 3986), as S3 expects; other AWS
 * services would want them encoded twice. Checked against AWS's published test vectors
 * (sigv4.test.ts).
 */

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS) carry a session token. */
  sessionToken?: string;
}

export interface SigV4Scope {
  region: string;
  /** `s3` for storage. */
  service: string;
  credentials: SigV4Credentials;
  now: Date;
}

/** `UNSIGNED-PAYLOAD` skips hashing the body (S3 accepts it over any transport). */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

const encoder = new TextEncoder();

/**
 * The headers to add to a request (`x-amz-date`, `authorization`, and `x-amz-security-token` with
 * temporary credentials). `headers` are the ones to sign besides `host` (taken from the URL) and
 * `x-amz-date`; include `x-amz-content-sha256` for S3.
 */
export async function signRequestHeaders(
  request: { method: string; url: string; headers: Record<string, string>; payloadHash: string },
  scope: SigV4Scope,
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const amzDate = amzDateOf(scope.now);
  const added: Record<string, string> = { 'x-amz-date': amzDate };
  if (scope.credentials.sessionToken) added['x-amz-security-token'] = scope.credentials.sessionToken;
  const headers = canonicalHeaders({ host: url.host, ...request.headers, ...added });
  const canonical = [request.method, canonicalPath(url.pathname), canonicalQuery(url.searchParams), headers.text, headers.names, request.payloadHash].join(
    '\n',
  );
  const signature = await sign(canonical, scope);
  return {
    ...added,
    authorization: `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope(scope)}, SignedHeaders=${headers.names}, Signature=${signature}`,
  };
}

/** A URL anyone may use for `expiresSeconds` (1 s to 7 days) to `method` the object; only `host` is signed. */
export async function presignUrl(request: { method: string; url: string; expiresSeconds: number }, scope: SigV4Scope): Promise<string> {
  const url = new URL(request.url);
  const query = url.searchParams;
  query.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
  query.set('X-Amz-Credential', `${scope.credentials.accessKeyId}/${credentialScope(scope)}`);
  query.set('X-Amz-Date', amzDateOf(scope.now));
  query.set('X-Amz-Expires', String(Math.max(1, Math.min(604_800, Math.round(request.expiresSeconds)))));
  if (scope.credentials.sessionToken) query.set('X-Amz-Security-Token', scope.credentials.sessionToken);
  query.set('X-Amz-SignedHeaders', 'host');
  const headers = canonicalHeaders({ host: url.host });
  const canonical = [request.method, canonicalPath(url.pathname), canonicalQuery(query), headers.text, headers.names, UNSIGNED_PAYLOAD].join('\n');
  const signature = await sign(canonical, scope);
  return `${url.origin}${canonicalPath(url.pathname)}?${canonicalQuery(query)}&X-Amz-Signature=${signature}`;
}

/** Path-style object URL (`<endpoint>/<bucket>/<key>`): works with AWS and every S3-compatible store. */
export function s3ObjectUrl(endpoint: string, bucket: string, key: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${bucket}/${key.split('/').map(rfc3986).join('/')}`;
}

async function sign(canonicalRequest: string, scope: SigV4Scope): Promise<string> {
  const stringToSign = ['AWS4-HMAC-SHA256', amzDateOf(scope.now), credentialScope(scope), hex(await sha256(canonicalRequest))].join('\n');
  let key: ArrayBuffer = encoder.encode(`AWS4${scope.credentials.secretAccessKey}`).buffer as ArrayBuffer;
  for (const part of [dayOf(scope.now), scope.region, scope.service, 'aws4_request']) key = await hmac(key, part);
  return hex(await hmac(key, stringToSign));
}

function canonicalHeaders(headers: Record<string, string>): { text: string; names: string } {
  const entries = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { text: entries.map(([name, value]) => `${name}:${value}\n`).join(''), names: entries.map(([name]) => name).join(';') };
}

/** Each segment decoded, then encoded once per RFC 3986 (`/` kept). */
function canonicalPath(pathname: string): string {
  return (
    pathname
      .split('/')
      .map((segment) => rfc3986(decodeURIComponent(segment)))
      .join('/') || '/'
  );
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const credentialScope = (scope: SigV4Scope) => `${dayOf(scope.now)}/${scope.region}/${scope.service}/aws4_request`;
const amzDateOf = (now: Date) =>
  now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
const dayOf = (now: Date) => amzDateOf(now).slice(0, 8);

async function hmac(key: ArrayBuffer, data: string): Promise<ArrayBuffer> {
  const imported = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', imported, encoder.encode(data));
}

async function sha256(data: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', encoder.encode(data));
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

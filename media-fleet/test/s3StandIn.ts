/**
 * An S3 stand-in for tests: path-style objects (`/<bucket>/<key>`) in memory, PUT with a SigV4
 * Authorization header and GET with a presigned URL, each checked the way S3 checks it (known
 * access key, scope, 15 min clock skew, payload hash, expiry), with S3's XML errors. The checker is
 * written from AWS's SigV4 documentation with node:crypto, independently of protocol/src/sigv4.ts,
 * and is itself checked against the S3 documentation's examples (s3StandIn.test.ts).
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInOptions {
  bucket: string;
  region: string;
  /** Access key id → secret access key. */
  keys: Record<string, string>;
}

/** What the checker needs of a request: the path and query exactly as sent, lower-case header names. */
export interface WireRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** For a header-signed request with a body: its hex SHA-256. */
  bodySha256?: string;
}

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED = 'UNSIGNED-PAYLOAD';
const MAX_SKEW_MS = 15 * 60_000;

/** Throws the S3Error that S3 would answer, or returns the access key id that signed the request. */
export function verifySigV4(request: WireRequest, options: Pick<StandInOptions, 'region' | 'keys'>, now: Date): string {
  const params = parseQuery(request.query);
  const presigned = params.some(([name]) => name === 'X-Amz-Signature');
  const auth = presigned ? presignedAuth(params) : headerAuth(request.headers);
  const [accessKeyId, day, region, service, terminal, ...extra] = auth.credential.split('/');
  if (!accessKeyId || !day || !region || service !== 's3' || terminal !== 'aws4_request' || extra.length > 0)
    throw new S3Error(400, 'AuthorizationHeaderMalformed', `the credential '${auth.credential}' is malformed`);
  const secret = options.keys[accessKeyId];
  if (secret === undefined) throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  if (region !== options.region) throw new S3Error(400, 'AuthorizationHeaderMalformed', `the region '${region}' is wrong; expecting '${options.region}'`);
  const signedAt = parseAmzDate(auth.amzDate);
  if (auth.amzDate.slice(0, 8) !== day) throw new S3Error(403, 'SignatureDoesNotMatch', 'the credential date does not match x-amz-date');
  if (presigned) {
    const expires = Number(auth.expires);
    if (!Number.isInteger(expires) || expires < 1 || expires > 604_800)
      throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be 1 to 604800 seconds');
    if (now.getTime() > signedAt.getTime() + expires * 1000) throw new S3Error(403, 'AccessDenied', 'Request has expired');
  } else if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  const signedNames = auth.signedHeaders.split(';');
  if (!signedNames.includes('host') || (!presigned && !signedNames.includes('x-amz-date')))
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'SignedHeaders must include host (and x-amz-date)');
  if (!presigned && auth.payloadHash !== UNSIGNED && auth.payloadHash !== request.bodySha256)
    throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');

  const canonicalHeaders = signedNames
    .map((name) => {
      const value = request.headers[name];
      if (value === undefined) throw new S3Error(403, 'SignatureDoesNotMatch', `signed header ${name} is missing`);
      return `${name}:${value.trim().replace(/ +/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    request.method,
    canonicalUri(request.path),
    params
      .filter(([name]) => name !== 'X-Amz-Signature')
      .map(([name, value]) => [uriEncode(name), uriEncode(value)])
      .sort(([a, av], [b, bv]) => (a! < b! ? -1 : a! > b! ? 1 : av! < bv! ? -1 : av! > bv! ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&'),
    canonicalHeaders,
    auth.signedHeaders,
    presigned ? UNSIGNED : auth.payloadHash,
  ].join('\n');
  const stringToSign = [ALGORITHM, auth.amzDate, `${day}/${region}/s3/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [day, region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  return accessKeyId;
}

interface Auth {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  payloadHash: string;
  expires?: string;
}

function headerAuth(headers: Record<string, string>): Auth {
  const header = headers.authorization;
  if (!header) throw new S3Error(403, 'AccessDenied', 'Access Denied');
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(header);
  if (!match) throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  const amzDate = headers['x-amz-date'];
  if (!amzDate) throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const payloadHash = headers['x-amz-content-sha256'];
  if (!payloadHash) throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (payloadHash !== UNSIGNED && !/^[0-9a-f]{64}$/.test(payloadHash))
    throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 hex digest');
  return { credential: match[1]!, signedHeaders: match[2]!, signature: match[3]!, amzDate, payloadHash };
}

function presignedAuth(params: [string, string][]): Auth {
  const get = (name: string) => {
    const value = params.find(([key]) => key === name)?.[1];
    if (value === undefined) throw new S3Error(400, 'AuthorizationQueryParametersError', `Query-string authentication requires ${name}`);
    return value;
  };
  if (get('X-Amz-Algorithm') !== ALGORITHM) throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  return {
    credential: get('X-Amz-Credential'),
    signedHeaders: get('X-Amz-SignedHeaders'),
    signature: get('X-Amz-Signature'),
    amzDate: get('X-Amz-Date'),
    payloadHash: UNSIGNED,
    expires: get('X-Amz-Expires'),
  };
}

function parseAmzDate(text: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  return new Date(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`);
}

function parseQuery(query: string): [string, string][] {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [decodeURIComponent(pair), ''] : [decodeURIComponent(pair.slice(0, at)), decodeURIComponent(pair.slice(at + 1))];
    });
}

/** S3 canonical URI: the decoded path encoded once, `/` kept (AWS: "UriEncode each path segment"). */
function canonicalUri(path: string): string {
  return path
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
}

/** AWS's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XY, upper-case hex. */
function uriEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export interface S3StandIn {
  /** Endpoint for path-style URLs, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Stored objects by key (without the bucket). */
  objects: Map<string, { body: Buffer; contentType: string | undefined }>;
  /** Every refusal answered, in order (status and S3 error code). */
  refusals: { status: number; code: string }[];
  close(): Promise<void>;
}

export async function startS3StandIn(options: StandInOptions): Promise<S3StandIn> {
  const objects: S3StandIn['objects'] = new Map();
  const refusals: S3StandIn['refusals'] = [];
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const refusal = error instanceof S3Error ? error : new S3Error(500, 'InternalError', String(error));
      refusals.push({ status: refusal.status, code: refusal.code });
      res.writeHead(refusal.status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message><RequestId>${randomUUID()}</RequestId></Error>`,
      );
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const at = raw.indexOf('?');
    const path = at < 0 ? raw : raw.slice(0, at);
    const query = at < 0 ? '' : raw.slice(at + 1);
    const [, bucket, ...keyParts] = path.split('/');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === 'PUT' && headers['content-length'] === undefined)
      throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    verifySigV4({ method: req.method ?? '', path, query, headers, bodySha256: sha256Hex(body) }, options, new Date());
    if (bucket !== options.bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const key = keyParts.map(decodeURIComponent).join('/');
    if (req.method === 'PUT') {
      objects.set(key, { body, contentType: headers['content-type'] });
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
    } else if (req.method === 'GET') {
      const object = objects.get(key);
      if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, { 'content-type': object.contentType ?? 'binary/octet-stream', 'content-length': object.body.length }).end(object.body);
    } else {
      throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    refusals,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

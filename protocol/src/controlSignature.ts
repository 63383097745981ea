/**
 * Request signatures between the edge and the media nodes, both directions (control requests to
 * the node, events to the edge). Web Crypto only, so it runs in workerd and in Node 20.
 *
 *   X-CallStack-Signature: t=<unix seconds>,n=<nonce>,v1=<hex HMAC-SHA256(secret, "<t>.<n>.<METHOD>.<path>.<body>")>
 *
 * `path` includes the query string; `body` is the raw body ("" when there is none). The receiver
 * rejects a timestamp more than `CONTROL_SIGNATURE_MAX_SKEW_SECONDS` from its clock and must
 * remember nonces for that long to refuse replays (`verifyControlSignature` is stateless; the
 * caller checks the returned nonce).
 */

export const CONTROL_SIGNATURE_HEADER = 'x-callstack-signature';
export const CONTROL_SIGNATURE_MAX_SKEW_SECONDS = 60;

export interface SignedRequest {
  method: string;
  path: string;
  body: string;
}

export type SignatureCheck = { ok: true; timestamp: number; nonce: string } | { ok: false; code: 'unauthorized' | 'signature_expired'; message: string };

const encoder = new TextEncoder();
// Spelled through `crypto.subtle` because Node's and workerd's type packages name the key type differently.
type HmacKey = ReturnType<typeof crypto.subtle.importKey>;
const keys = new Map<string, HmacKey>();

function hmacKey(secret: string): HmacKey {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

function signedString(timestamp: number, nonce: string, request: SignedRequest): string {
  return `${timestamp}.${nonce}.${request.method.toUpperCase()}.${request.path}.${request.body}`;
}

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The header value for a request; `timestamp` (unix seconds) and `nonce` are for tests. */
export async function signControlRequest(secret: string, request: SignedRequest, options: { timestamp?: number; nonce?: string } = {}): Promise<string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = options.nonce ?? toHex(crypto.getRandomValues(new Uint8Array(16)).buffer);
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(signedString(timestamp, nonce, request)));
  return `t=${timestamp},n=${nonce},v1=${toHex(mac)}`;
}

/** Checks format, skew and MAC (constant time, through `crypto.subtle.verify`). Never throws. */
export async function verifyControlSignature(
  secret: string,
  header: string | null | undefined,
  request: SignedRequest,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<SignatureCheck> {
  if (!header) return { ok: false, code: 'unauthorized', message: 'missing signature' };
  const fields = new Map(
    header.split(',').map((part) => {
      const eq = part.indexOf('=');
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()] as const;
    }),
  );
  const t = fields.get('t');
  const nonce = fields.get('n');
  const mac = fields.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !nonce || !/^[A-Za-z0-9_-]{16,64}$/.test(nonce) || !mac || !/^[0-9a-f]{64}$/.test(mac)) {
    return { ok: false, code: 'unauthorized', message: 'malformed signature' };
  }
  const timestamp = Number(t);
  if (Math.abs(nowSeconds - timestamp) > CONTROL_SIGNATURE_MAX_SKEW_SECONDS) {
    return { ok: false, code: 'signature_expired', message: `signature timestamp outside ±${CONTROL_SIGNATURE_MAX_SKEW_SECONDS} s` };
  }
  const macBytes = new Uint8Array(mac.match(/../g)!.map((byte) => parseInt(byte, 16)));
  const valid = await crypto.subtle.verify('HMAC', await hmacKey(secret), macBytes, encoder.encode(signedString(timestamp, nonce, request)));
  return valid ? { ok: true, timestamp, nonce } : { ok: false, code: 'unauthorized', message: 'signature does not match' };
}

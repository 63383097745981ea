/**
 * The S3 stand-in's checker against the S3 API reference's own examples (sig-v4-header-based-auth:
 * "PUT Object"; sigv4-query-string-auth: the presigned GET), so it is known right independently of
 * protocol/src/sigv4.ts; then the refusals S3 gives for a stale request, an expired URL, a changed
 * signature or body, and an unknown key.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { S3Error, verifySigV4, type WireRequest } from './s3StandIn.ts';

const DOCS = { region: 'us-east-1', keys: { AKIAIOSFODNN7EXAMPLE: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } };
const SIGNED_AT = new Date('2013-05-24T00:00:00Z');
const BODY = 'Welcome to Amazon S3.';

const PUT_EXAMPLE: WireRequest = {
  method: 'PUT',
  path: '/test%24file.text',
  query: '',
  headers: {
    host: 'examplebucket.s3.amazonaws.com',
    date: 'Fri, 24 May 2013 00:00:00 GMT',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
  },
  bodySha256: createHash('sha256').update(BODY).digest('hex'),
};

const PRESIGNED_EXAMPLE: WireRequest = {
  method: 'GET',
  path: '/test.txt',
  query:
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  headers: { host: 'examplebucket.s3.amazonaws.com' },
};

function refusal(request: WireRequest, now: Date, keys: Record<string, string> = DOCS.keys): string {
  try {
    verifySigV4(request, { region: DOCS.region, keys }, now);
  } catch (error) {
    assert.ok(error instanceof S3Error);
    return `${error.status} ${error.code}: ${error.message}`;
  }
  return 'accepted';
}

const at = (offsetMs: number) => new Date(SIGNED_AT.getTime() + offsetMs);

test("the S3 docs' header-signed PUT is accepted; 15 min of skew, a changed body or signature or an unknown key are refused", () => {
  assert.equal(verifySigV4(PUT_EXAMPLE, DOCS, at(60_000)), 'AKIAIOSFODNN7EXAMPLE');
  assert.equal(verifySigV4(PUT_EXAMPLE, DOCS, at(-14 * 60_000)), 'AKIAIOSFODNN7EXAMPLE');
  assert.match(refusal(PUT_EXAMPLE, at(15 * 60_000 + 1000)), /^403 RequestTimeTooSkewed/);
  assert.match(
    refusal({ ...PUT_EXAMPLE, bodySha256: createHash('sha256').update('Welcome to Amazon S4.').digest('hex') }, SIGNED_AT),
    /^400 XAmzContentSHA256Mismatch/,
  );
  assert.match(refusal({ ...PUT_EXAMPLE, headers: { ...PUT_EXAMPLE.headers, 'x-amz-storage-class': 'STANDARD' } }, SIGNED_AT), /^403 SignatureDoesNotMatch/);
  assert.match(refusal({ ...PUT_EXAMPLE, path: '/test%24file.txt' }, SIGNED_AT), /^403 SignatureDoesNotMatch/);
  assert.match(refusal(PUT_EXAMPLE, SIGNED_AT, { AKIAIOSFODNN7EXAMPLE: 'another secret' }), /^403 SignatureDoesNotMatch/);
  assert.match(refusal(PUT_EXAMPLE, SIGNED_AT, { SOMEONEELSE: 'x' }), /^403 InvalidAccessKeyId/);
  const { authorization: _, ...unsigned } = PUT_EXAMPLE.headers;
  assert.match(refusal({ ...PUT_EXAMPLE, headers: unsigned }, SIGNED_AT), /^403 AccessDenied/);
});

test("the S3 docs' presigned GET is accepted for its 86400 s and no longer; a changed signature or query is refused", () => {
  assert.equal(verifySigV4(PRESIGNED_EXAMPLE, DOCS, at(86_400_000)), 'AKIAIOSFODNN7EXAMPLE');
  assert.equal(refusal(PRESIGNED_EXAMPLE, at(86_401_000)), '403 AccessDenied: Request has expired');
  assert.match(refusal({ ...PRESIGNED_EXAMPLE, query: PRESIGNED_EXAMPLE.query.replace('d404', 'd405') }, SIGNED_AT), /^403 SignatureDoesNotMatch/);
  assert.match(
    refusal({ ...PRESIGNED_EXAMPLE, query: PRESIGNED_EXAMPLE.query.replace('Expires=86400', 'Expires=604800') }, SIGNED_AT),
    /^403 SignatureDoesNotMatch/,
  );
  assert.match(refusal({ ...PRESIGNED_EXAMPLE, headers: { host: 'otherbucket.s3.amazonaws.com' } }, SIGNED_AT), /^403 SignatureDoesNotMatch/);
});

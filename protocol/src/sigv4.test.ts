/** SigV4 against AWS's published vectors: the signature test suite and the S3 documentation's examples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presignUrl, s3ObjectUrl, signRequestHeaders } from './sigv4.ts';

/** SHA-256 of an empty payload, as the vectors sign it. */
const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// Signature Version 4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
const SUITE = {
  region: 'us-east-1',
  service: 'service',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  now: new Date('2015-08-30T12:36:00Z'),
};
// The S3 API reference's examples (sig-v4-header-based-auth, sigv4-query-string-auth).
const S3_DOCS = {
  region: 'us-east-1',
  service: 's3',
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  now: new Date('2013-05-24T00:00:00Z'),
};

test('get-vanilla and get-vanilla-query-order-key-case from the SigV4 test suite', async () => {
  const vanilla = await signRequestHeaders({ method: 'GET', url: 'https://example.amazonaws.com/', headers: {}, payloadHash: EMPTY_PAYLOAD_SHA256 }, SUITE);
  assert.equal(vanilla['x-amz-date'], '20150830T123600Z');
  assert.equal(
    vanilla.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  );
  const query = await signRequestHeaders(
    { method: 'GET', url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1', headers: {}, payloadHash: EMPTY_PAYLOAD_SHA256 },
    SUITE,
  );
  assert.match(query.authorization!, /Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500$/);
  const post = await signRequestHeaders({ method: 'POST', url: 'https://example.amazonaws.com/', headers: {}, payloadHash: EMPTY_PAYLOAD_SHA256 }, SUITE);
  assert.match(post.authorization!, /Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b$/);
});

test('S3 docs: GET object with a range header, and a presigned GET URL', async () => {
  const headers = await signRequestHeaders(
    {
      method: 'GET',
      url: 'https://examplebucket.s3.amazonaws.com/test.txt',
      headers: { range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_PAYLOAD_SHA256 },
      payloadHash: EMPTY_PAYLOAD_SHA256,
    },
    S3_DOCS,
  );
  assert.equal(
    headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
  const url = await presignUrl({ method: 'GET', url: 'https://examplebucket.s3.amazonaws.com/test.txt', expiresSeconds: 86400 }, S3_DOCS);
  assert.equal(
    url,
    'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  );
});

test('object URLs are path-style with each key segment encoded once', () => {
  assert.equal(s3ObjectUrl('http://127.0.0.1:9000/', 'recs', 'r-1/a b.webm'), 'http://127.0.0.1:9000/recs/r-1/a%20b.webm');
});

/**
 * S3-compatible storage (AWS S3, MinIO, R2...): a path-style PUT per file, signed with SigV4
 * (protocol/src/sigv4.ts), streamed from disk with an unsigned payload; the local copy is removed
 * once the store has it.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { s3ObjectUrl, signRequestHeaders, UNSIGNED_PAYLOAD, type SigV4Credentials } from '@callstack/protocol';
import type { RecordingStore } from './RecordingStore.ts';

export interface S3Settings {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: SigV4Credentials;
}

export class S3Store implements RecordingStore {
  readonly kind = 's3' as const;

  constructor(readonly settings: S3Settings) {}

  async put(key: string, path: string, contentType: string): Promise<void> {
    const { endpoint, bucket, region, credentials } = this.settings;
    const url = s3ObjectUrl(endpoint, bucket, key);
    const { size } = await stat(path);
    const headers = { 'content-length': String(size), 'content-type': contentType, 'x-amz-content-sha256': UNSIGNED_PAYLOAD };
    const signed = await signRequestHeaders(
      { method: 'PUT', url, headers, payloadHash: UNSIGNED_PAYLOAD },
      { region, service: 's3', credentials, now: new Date() },
    );
    const response = await fetch(url, {
      method: 'PUT',
      headers: { ...headers, ...signed },
      body: Readable.toWeb(createReadStream(path)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const answer = await response.text();
    if (!response.ok) throw new Error(`S3 PUT ${key} answered ${response.status}: ${answer.slice(0, 300)}`);
    await rm(path, { force: true });
  }
}

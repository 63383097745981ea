import { createExecutionContext, env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type RawConfig } from '../src/config.ts';
import worker from '../src/index.ts';

const minimal: RawConfig = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', JWT_SECRET: 'a-secret-of-sixteen+' };

function problems(raw: RawConfig): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('fills the documented defaults', () => {
    const config = parseConfig(minimal);
    expect(config.ringTimeoutMs).toBe(30_000);
    expect(config.presence).toEqual({ shards: 4, offlineGraceMs: 30_000 });
    expect(config.mediaNodeTtlMs).toBe(180_000);
    expect(config.roomMaxParticipants).toBe(30);
    expect(config.login).toEqual({ maxFailuresPerAccount: 5, maxFailuresPerIp: 50, lockBaseSeconds: 30 });
    expect(config.jwt).toEqual({ secret: minimal.JWT_SECRET, kid: 'k1', previousKeys: [] });
    expect(config.turn).toBeNull();
    expect(config.mail).toBeNull();
    expect(config.recordingsS3).toBeNull();
  });

  it('parses numbers, lists and key pairs into typed values', () => {
    const config = parseConfig({
      ...minimal,
      RING_TIMEOUT_SECONDS: '6',
      PRESENCE_SHARDS: '8',
      PRESENCE_OFFLINE_GRACE_SECONDS: '0',
      TURN_SECRET: 's',
      TURN_URLS: ' stun:a.test:3478, turn:a.test:3478?transport=udp ',
      JWT_PREVIOUS_KEYS: 'k0:an-older-secret-of-16',
    });
    expect(config.ringTimeoutMs).toBe(6_000);
    expect(config.presence).toEqual({ shards: 8, offlineGraceMs: 0 });
    expect(config.turn).toEqual({ secret: 's', urls: ['stun:a.test:3478', 'turn:a.test:3478?transport=udp'] });
    expect(config.turnTtlSeconds).toBe(3600);
    expect(config.jwt.previousKeys).toEqual([{ kid: 'k0', secret: 'an-older-secret-of-16' }]);
  });

  it('names the variable of a bad value instead of running with NaN', () => {
    expect(problems({ ...minimal, RING_TIMEOUT_SECONDS: 'abc' })).toEqual(['RING_TIMEOUT_SECONDS: must be a number of seconds above 0']);
    expect(problems({ ...minimal, PRESENCE_SHARDS: '0' })).toEqual(['PRESENCE_SHARDS: must be a whole number from 1 to 64']);
    expect(problems({ ...minimal, JWT_PREVIOUS_KEYS: 'no-separator' })).toEqual(['JWT_PREVIOUS_KEYS: must be kid:secret pairs, comma-separated']);
  });

  it('takes what the settings always took: fractions of seconds, a grace of 0, a kid with dots, spaces around previous keys', () => {
    const config = parseConfig({
      ...minimal,
      PRESENCE_OFFLINE_GRACE_SECONDS: '0.5',
      RING_TIMEOUT_SECONDS: '2.5',
      ROOM_MAX_PARTICIPANTS: '1',
      JWT_KID: '2024.1',
      JWT_PREVIOUS_KEYS: ' k0 : old ,k1:older',
      NEON_WS_PROXY: '127.0.0.1:5433',
    });
    expect(config.presence.offlineGraceMs).toBe(500);
    expect(config.ringTimeoutMs).toBe(2_500);
    expect(config.roomMaxParticipants).toBe(1);
    expect(config.jwt.previousKeys).toEqual([
      { kid: 'k0', secret: 'old' },
      { kid: 'k1', secret: 'older' },
    ]);
  });

  it('reports every problem at once, missing secrets included', () => {
    const found = problems({ RING_TIMEOUT_SECONDS: '-1', TURN_URLS: 'http://nope', MEDIA_NODE_TTL_SECONDS: '0' });
    expect(found.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual([
      'DATABASE_URL',
      'JWT_SECRET',
      'TURN_URLS',
      'RING_TIMEOUT_SECONDS',
      'MEDIA_NODE_TTL_SECONDS',
    ]);
    expect(found[0]).toBe('DATABASE_URL: is required');
  });

  it('wants all of the recording storage variables or none', () => {
    expect(problems({ ...minimal, RECORDINGS_S3_BUCKET: 'recordings' })[0]).toMatch(
      /^RECORDINGS_S3_ENDPOINT, RECORDINGS_S3_ACCESS_KEY_ID, RECORDINGS_S3_SECRET_ACCESS_KEY: required when RECORDINGS_S3_BUCKET is set/,
    );
  });

  it('ignores bindings and unknown variables', () => {
    expect(() => parseConfig({ ...minimal, ...({ USER_HUB: {}, SOMETHING_ELSE: 'x' } as RawConfig) })).not.toThrow();
  });
});

describe('a misconfigured edge', () => {
  it('answers 500 internal without naming its settings to the client', async () => {
    const response = await worker.fetch(new Request('https://edge.test/api/health'), { ...env, RING_TIMEOUT_SECONDS: 'abc' }, createExecutionContext());
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('internal');
    expect(body.error.message).not.toMatch(/RING_TIMEOUT/);
  });
});

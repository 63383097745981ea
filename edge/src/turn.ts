/**
 * TURN REST credentials for coturn's `use-auth-secret`: username `<expiry>:<userId>`, password
 * base64(HMAC-SHA1(secret, username)). coturn checks both without calling us.
 */
import type { IceServer, TurnCredentialsResponse } from '@callstack/protocol';
import { toBase64 } from './auth/encoding.ts';
import { config } from './config.ts';
import type { Env } from './env.ts';

export async function turnCredentials(env: Env, userId: string, now = Date.now()): Promise<TurnCredentialsResponse> {
  const { turn, turnTtlSeconds } = config(env);
  const ttl = Math.floor(turnTtlSeconds);
  if (!turn) return { username: '', password: '', ttl, iceServers: [] };
  const { urls } = turn;

  const username = `${Math.floor(now / 1000) + ttl}:${userId}`;
  const password = await hmacSha1Base64(turn.secret, username);
  const turnUrls = urls.filter((url) => url.startsWith('turn:') || url.startsWith('turns:'));
  const stunUrls = urls.filter((url) => url.startsWith('stun:'));
  const iceServers: IceServer[] = [];
  if (stunUrls.length) iceServers.push({ urls: stunUrls });
  if (turnUrls.length) iceServers.push({ urls: turnUrls, username, credential: password });
  return { username, password, ttl, iceServers };
}

async function hmacSha1Base64(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  return toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message))));
}

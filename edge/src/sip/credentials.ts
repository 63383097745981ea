/**
 * SIP digest credentials. The edge stores HA1 = MD5(username:realm:password), which is all a
 * registrar needs to check a digest response (RFC 2617/7616 with MD5, what desk phones speak),
 * and never the password. The username stays when the password rotates, so a phone only needs
 * its new password.
 */
import { randomToken } from '../auth/encoding.ts';

const USERNAME_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** `u` and 11 characters that phones' keypads and people both read without ambiguity. */
export function newSipUsername(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(11));
  return `u${[...bytes].map((byte) => USERNAME_ALPHABET[byte % USERNAME_ALPHABET.length]).join('')}`;
}

export function newSipPassword(): string {
  return randomToken(18);
}

/** Workers' WebCrypto offers MD5 for digest interop like this one. */
export async function sipHa1(username: string, realm: string, password: string): Promise<string> {
  const digest = await crypto.subtle.digest('MD5', new TextEncoder().encode(`${username}:${realm}:${password}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

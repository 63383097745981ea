/**
 * Stripe as the edge uses it: the `stripe` SDK with its fetch HTTP client (Workers have no Node
 * sockets), pinned to the API version its types and Stripe's API description (the local
 * stand-in's) are of, and webhook verification with the SubtleCrypto provider.
 */
import Stripe from 'stripe';
import { config } from '../config.ts';
import type { Env } from '../env.ts';

export const STRIPE_API_VERSION = '2024-04-10';

/** Null when no secret key is configured (then invoices stay drafts). */
export function stripeClient(env: Env): Stripe | null {
  const settings = config(env).stripe;
  if (!settings) return null;
  const api = settings.apiUrl ? new URL(settings.apiUrl) : null;
  return new Stripe(settings.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    httpClient: Stripe.createFetchHttpClient(),
    // Retries carry the same idempotency key, so a lost answer is never a second charge.
    maxNetworkRetries: 2,
    ...(api
      ? { host: api.hostname, port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)), protocol: api.protocol === 'https:' ? 'https' : 'http' }
      : {}),
  });
}

const cryptoProvider = Stripe.createSubtleCryptoProvider();

/** The event a webhook delivers, if its `Stripe-Signature` is good and recent (5 minutes); else null. */
export async function verifiedStripeEvent(env: Env, body: string, signature: string | null): Promise<Stripe.Event | null> {
  const settings = config(env).stripe;
  if (!settings?.webhookSecret || !signature) return null;
  try {
    // The client does not matter for verification; the SDK needs one to reach `webhooks`.
    return await new Stripe(settings.secretKey, { apiVersion: STRIPE_API_VERSION, httpClient: Stripe.createFetchHttpClient() }).webhooks.constructEventAsync(
      body,
      signature,
      settings.webhookSecret,
      undefined,
      cryptoProvider,
    );
  } catch {
    return null;
  }
}

/**
 * Nonces of accepted signed requests, remembered for the signature window so a captured request
 * cannot be sent again. Entries are inserted in time order, so expiry pops from the front.
 */
export class NonceCache {
  readonly #expiries = new Map<string, number>();

  constructor(readonly ttlMs: number) {}

  /** True if `nonce` was seen within the window; otherwise remembers it and returns false. */
  seen(nonce: string, nowMs = Date.now()): boolean {
    for (const [key, expiresAt] of this.#expiries) {
      if (expiresAt > nowMs) break;
      this.#expiries.delete(key);
    }
    if (this.#expiries.has(nonce)) return true;
    this.#expiries.set(nonce, nowMs + this.ttlMs);
    return false;
  }

  get size(): number {
    return this.#expiries.size;
  }
}

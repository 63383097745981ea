/**
 * Replay protection for signed requests: each signature's nonce is kept, under `<prefix><nonce>`
 * in the object's storage, for as long as the signature could be accepted; a second sighting in
 * that time is a replay. The object's alarm calls `forgetExpired`.
 */
/** storage.delete takes at most 128 keys per call. */
const DELETE_BATCH = 128;

export class NonceLedger {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly prefix: string,
    private readonly retainMs: number,
  ) {}

  /** Records the nonce; false when it was already there. */
  async firstSighting(nonce: string, now = Date.now()): Promise<boolean> {
    const key = `${this.prefix}${nonce}`;
    if ((await this.storage.get(key)) !== undefined) return false;
    await this.storage.put(key, now + this.retainMs);
    return true;
  }

  async forgetExpired(now = Date.now()): Promise<void> {
    const nonces = await this.storage.list<number>({ prefix: this.prefix });
    const expired = [...nonces].filter(([, until]) => until <= now).map(([key]) => key);
    for (let i = 0; i < expired.length; i += DELETE_BATCH) await this.storage.delete(expired.slice(i, i + DELETE_BATCH));
  }
}

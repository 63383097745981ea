/**
 * Presence fan-out is sharded: a tenant has `PRESENCE_SHARDS` PresenceShard objects, each holding
 * the tenant's statuses and a share of its watchers (`PRESENCE_SHARDS`, config.ts). Pure helpers, shared with the tests.
 */
/**
 * The shard a watcher lands on: FNV-1a of its key, so one device keeps its shard across
 * reconnects, with murmur3's finaliser because FNV's low bits alone spread similar keys badly.
 */
export function shardIndex(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % shards;
}

/** The key of a watcher for `shardIndex`. */
export function watcherKey(userId: string, deviceId: string): string {
  return `${userId}:${deviceId}`;
}

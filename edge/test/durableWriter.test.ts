import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { setAlarmToEarliest } from '../src/objects/deadlines.ts';
import { DurableWriter } from '../src/objects/DurableWriter.ts';

interface Row {
  id: string;
}

/** Runs `work` with the storage of a fresh Durable Object (any class will do: only its storage is used). */
function withStorage(work: (storage: DurableObjectStorage) => Promise<void>): Promise<void> {
  const stub = env.MEDIA_FLEET.get(env.MEDIA_FLEET.newUniqueId());
  return runInDurableObject(stub, (_instance, state) => work(state.storage));
}

function writer(storage: DurableObjectStorage, write: (rows: Row[]) => Promise<void>, failures: unknown[] = []) {
  return new DurableWriter<Row>(storage, { key: 'rows', idOf: (row) => row.id, write, onFailure: (error) => failures.push(error) });
}

describe('DurableWriter', () => {
  it('writes what is added and keeps nothing after', async () => {
    await withStorage(async (storage) => {
      const written: Row[][] = [];
      const rows = writer(storage, async (batch) => void written.push(batch));
      expect(await rows.add({ id: 'a' })).toBe('written');
      expect(written).toEqual([[{ id: 'a' }]]);
      expect(await rows.hasPending()).toBe(false);
      expect(await rows.flush()).toBe('idle');
    });
  });

  it('keeps records after a failed write and retries them later with backoff', async () => {
    await withStorage(async (storage) => {
      let down = true;
      const failures: unknown[] = [];
      const written: Row[][] = [];
      const rows = writer(
        storage,
        async (batch) => {
          if (down) throw new Error('database unavailable');
          written.push(batch);
        },
        failures,
      );
      const now = 1_000_000;
      expect(await rows.add({ id: 'a' }, now)).toBe('failed');
      const first = (await rows.dueAt())!;
      expect(first).toBeGreaterThanOrEqual(now + 500);
      expect(first).toBeLessThanOrEqual(now + 1_000);
      expect(await rows.add({ id: 'b' }, now)).toBe('failed');
      // The second failure waits longer (about 2 s).
      expect((await rows.dueAt())!).toBeGreaterThanOrEqual(now + 1_000);
      expect(failures).toHaveLength(2);
      down = false;
      expect(await rows.flush(now + 5_000)).toBe('written');
      expect(written).toEqual([[{ id: 'a' }, { id: 'b' }]]);
      expect(await rows.dueAt()).toBeNull();
      expect(await rows.hasPending()).toBe(false);
    });
  });

  it('keeps a record added while a write is under way for the next write', async () => {
    await withStorage(async (storage) => {
      const written: Row[][] = [];
      let once = true;
      const rows: DurableWriter<Row> = writer(storage, async (batch) => {
        written.push(batch);
        if (once) {
          once = false;
          await rows.keep({ id: 'late' });
        }
      });
      await rows.add({ id: 'a' });
      expect(await rows.hasPending()).toBe(true);
      await rows.flush();
      expect(written).toEqual([[{ id: 'a' }], [{ id: 'late' }]]);
    });
  });

  it('keep stores without writing, so a record survives until the next flush', async () => {
    await withStorage(async (storage) => {
      const written: Row[][] = [];
      await writer(storage, async (batch) => void written.push(batch)).keep({ id: 'a' });
      expect(written).toEqual([]);
      // A new writer on the same storage (an evicted object woken up) finds it.
      const again = writer(storage, async (batch) => void written.push(batch));
      expect(await again.hasPending()).toBe(true);
      await again.flush();
      expect(written).toEqual([[{ id: 'a' }]]);
    });
  });
});

describe('setAlarmToEarliest', () => {
  it('sets the alarm to the earliest deadline and deletes it when none is due', async () => {
    await withStorage(async (storage) => {
      expect(await setAlarmToEarliest(storage, [null, 5_000_000_000_000, undefined, 4_000_000_000_000])).toBe(4_000_000_000_000);
      expect(await storage.getAlarm()).toBe(4_000_000_000_000);
      expect(await setAlarmToEarliest(storage, [null, Infinity])).toBeNull();
      expect(await storage.getAlarm()).toBeNull();
    });
  });
});

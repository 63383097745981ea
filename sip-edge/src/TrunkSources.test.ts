import type { TrunkAddresses } from '@callstack/protocol';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { TrunkSources } from './TrunkSources.ts';

const log = pino({ level: 'silent' });

function source(answers: (TrunkAddresses | Error)[]) {
  let clock = 0;
  let loads = 0;
  const sources = new TrunkSources(
    async () => {
      const answer = answers[Math.min(loads++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    log,
    30_000,
    () => clock,
  );
  return { sources, advance: (ms: number) => (clock += ms), loads: () => loads };
}

test('answers from the list it fetched, fetching once for a burst of questions and again once the list is old', async () => {
  const { sources, advance, loads } = source([
    { trunks: [{ id: 'carrier-a', addresses: ['192.0.2.10', '192.0.2.11'] }] },
    { trunks: [{ id: 'carrier-b', addresses: ['192.0.2.10'] }] },
  ]);
  const burst = await Promise.all(['192.0.2.10', '192.0.2.11', '198.51.100.1'].map((address) => sources.trunkOf(address)));
  assert.deepEqual(burst, ['carrier-a', 'carrier-a', null]);
  assert.equal(loads(), 1);
  advance(29_000);
  assert.equal(await sources.trunkOf('192.0.2.11'), 'carrier-a');
  advance(2_000);
  // The operator moved the address to another trunk, and dropped the other one.
  assert.deepEqual([await sources.trunkOf('192.0.2.10'), await sources.trunkOf('192.0.2.11')], ['carrier-b', null]);
  assert.equal(loads(), 2);
});

test('the edge unreachable: the last list goes on serving; with none yet, the question fails', async () => {
  const stale = source([{ trunks: [{ id: 'carrier-a', addresses: ['192.0.2.10'] }] }, new Error('edge down')]);
  assert.equal(await stale.sources.trunkOf('192.0.2.10'), 'carrier-a');
  stale.advance(60_000);
  assert.equal(await stale.sources.trunkOf('192.0.2.10'), 'carrier-a');
  assert.equal(await stale.sources.trunkOf('192.0.2.10'), 'carrier-a');
  assert.equal(stale.loads(), 2, 'one failed fetch, not one per question');

  const none = source([new Error('edge down'), { trunks: [{ id: 'carrier-a', addresses: ['192.0.2.10'] }] }]);
  await assert.rejects(none.sources.trunkOf('192.0.2.10'), /edge down/);
  // The next question tries again.
  assert.equal(await none.sources.trunkOf('192.0.2.10'), 'carrier-a');
});

import type { Trunk } from '@callstack/protocol';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { TrunkHealth } from './TrunkHealth.ts';

const trunk = (id: string): Trunk => ({
  id,
  host: '192.0.2.1',
  port: 5060,
  transport: 'udp',
  addresses: ['192.0.2.1'],
  country: 'GB',
  numberFormat: 'e164',
  codecs: ['PCMU'],
  maxChannels: 10,
});

test('a trunk whose probe times out or answers 5xx is tried last until a probe finds it up; all down: all tried', async () => {
  const answers = new Map<string, number | null>([
    ['a', null],
    ['b', 200],
    ['c', 503],
  ]);
  const health = new TrunkHealth(async ({ id }) => answers.get(id) ?? null, pino({ level: 'silent' }), 0);
  const trunks = [trunk('a'), trunk('b'), trunk('c')];
  assert.deepEqual(
    health.order(trunks).map(({ id }) => id),
    ['a', 'b', 'c'],
    'nothing is known before the first probe',
  );
  await health.probeAll();
  assert.deepEqual(
    health.order(trunks).map(({ id }) => id),
    ['b'],
  );
  answers.set('a', 404);
  await health.probeAll();
  assert.deepEqual(
    health.order(trunks).map(({ id }) => id),
    ['a', 'b'],
    'any answer below 500 means the trunk is there',
  );
  answers.set('a', null).set('b', 500);
  await health.probeAll();
  assert.deepEqual(
    health.order(trunks).map(({ id }) => id),
    ['a', 'b', 'c'],
  );
  health.stop();
});

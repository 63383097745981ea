import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NumberRoute } from '@callstack/protocol';
import { routeOf, routeValue } from './numberRoutes.ts';

test('every route survives the select and back; a forward is only kept, never made up', () => {
  const routes: NumberRoute[] = [
    { kind: 'user', userId: 'u-1' },
    { kind: 'group', groupId: 'g-1' },
    { kind: 'none' },
    { kind: 'number', number: '+442079460958' },
  ];
  for (const route of routes) assert.deepEqual(routeOf(routeValue(route), route), route);
  assert.deepEqual(routeOf('number'), { kind: 'none' });
  assert.deepEqual(routeOf('number', { kind: 'user', userId: 'u-1' }), { kind: 'none' });
});

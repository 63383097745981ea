/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconnectDelay } from './socket.ts';

test('reconnect delays follow 0, 300, 1200, 2700, 4800 ms, then 7 s steps', () => {
  const middle = () => 0.5;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => reconnectDelay(attempt, middle)),
    [0, 300, 1200, 2700, 4800, 7000, 7000, 7000],
  );
});

test('reconnect jitter stays within ±25 % and never delays the first retry', () => {
  for (const attempt of [0, 1, 3, 5, 9]) {
    const base = reconnectDelay(attempt, () => 0.5);
    assert.equal(
      reconnectDelay(attempt, () => 0),
      Math.round(base * 0.75),
    );
    assert.equal(
      reconnectDelay(attempt, () => 1),
      Math.round(base * 1.25),
    );
  }
  assert.equal(reconnectDelay(0, Math.random), 0);
});

/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StallDetector } from './StallDetector.ts';

test('a busy transport that stops receiving is a stall after two samples; an idle one never', () => {
  const detector = new StallDetector();
  assert.equal(detector.sample(100, true), false);
  assert.equal(detector.sample(200, true), false);
  assert.equal(detector.sample(200, true), false, 'one flat sample');
  assert.equal(detector.sample(200, true), true, 'two flat samples');
  assert.equal(detector.sample(300, true), false, 'bytes again');

  const idle = new StallDetector();
  for (let i = 0; i < 5; i++) assert.equal(idle.sample(100, false), false, 'camera off, nothing to expect');
});

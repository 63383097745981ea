/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleTracker, type IdleClock } from './idle.ts';

/** A clock the test moves by hand; `advance` runs the timers that fall due. */
function fakeClock() {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; run: () => void }>();
  const clock: IdleClock = {
    now: () => now,
    setTimeout: (run, ms) => {
      timers.set(++nextId, { at: now + ms, run });
      return nextId;
    },
    clearTimeout: (handle) => timers.delete(handle as number),
  };
  function advance(ms: number): void {
    const end = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].run();
    }
    now = end;
  }
  return { clock, advance, pending: () => timers.size };
}

test('idle after the delay without input, active again on the next input, each reported once', () => {
  const { clock, advance } = fakeClock();
  const reports: boolean[] = [];
  const tracker = new IdleTracker(1000, (idle) => reports.push(idle), clock);
  advance(999);
  assert.deepEqual(reports, []);
  advance(1);
  assert.deepEqual(reports, [true]);
  advance(5000);
  assert.deepEqual(reports, [true], 'no repeat while still idle');
  tracker.input();
  tracker.input();
  assert.deepEqual(reports, [true, false]);
  advance(1000);
  assert.deepEqual(reports, [true, false, true], 'the delay starts again from the input');
});

test('input before the delay postpones idle by the whole delay from the last input', () => {
  const { clock, advance } = fakeClock();
  const reports: boolean[] = [];
  const tracker = new IdleTracker(1000, (idle) => reports.push(idle), clock);
  advance(600);
  tracker.input();
  advance(600);
  assert.deepEqual(reports, [], '1200 ms since start but 600 since input');
  advance(399);
  assert.deepEqual(reports, []);
  advance(1);
  assert.deepEqual(reports, [true]);
});

test('stop cancels the timer', () => {
  const { clock, advance, pending } = fakeClock();
  const reports: boolean[] = [];
  new IdleTracker(1000, (idle) => reports.push(idle), clock).stop();
  advance(5000);
  assert.deepEqual(reports, []);
  assert.equal(pending(), 0);
});

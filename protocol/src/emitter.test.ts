import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from './emitter.ts';

type ProbeEvents = { moved: [x: number, y: number]; error: [message: string]; done: [] };

class Probe extends Emitter<ProbeEvents> {
  fire<K extends keyof ProbeEvents>(event: K, ...args: ProbeEvents[K]): void {
    this.emit(event, ...args);
  }
}

test('listeners get the arguments of their event, in the order they were added', () => {
  const probe = new Probe();
  const seen: string[] = [];
  probe.on('moved', (x, y) => seen.push(`a${x},${y}`));
  probe.on('moved', (x, y) => seen.push(`b${x},${y}`));
  probe.on('done', () => seen.push('done'));
  probe.fire('moved', 1, 2);
  probe.fire('done');
  assert.deepEqual(seen, ['a1,2', 'b1,2', 'done']);
});

test('on returns its unsubscribe; off removes; a listener added twice runs once', () => {
  const probe = new Probe();
  let calls = 0;
  const listener = () => calls++;
  const unsubscribe = probe.on('done', listener);
  probe.on('done', listener);
  probe.fire('done');
  unsubscribe();
  probe.fire('done');
  probe.on('done', listener);
  probe.off('done', listener);
  probe.fire('done');
  assert.equal(calls, 1);
});

test('during an emit, an added listener waits for the next emit and a removed one does not run', () => {
  const probe = new Probe();
  const seen: string[] = [];
  const late = () => seen.push('late');
  const removed = () => seen.push('removed');
  probe.on('done', () => {
    seen.push('first');
    probe.on('done', late);
    probe.off('done', removed);
  });
  probe.on('done', removed);
  probe.fire('done');
  assert.deepEqual(seen, ['first']);
  probe.fire('done');
  assert.deepEqual(seen, ['first', 'first', 'late']);
});

test('a throwing listener stops the emit and the error reaches the emitter; error is an ordinary event', () => {
  const probe = new Probe();
  let after = false;
  probe.on('done', () => {
    throw new Error('boom');
  });
  probe.on('done', () => (after = true));
  assert.throws(() => probe.fire('done'), /boom/);
  assert.equal(after, false);
  assert.doesNotThrow(() => probe.fire('error', 'nobody listens'));
});

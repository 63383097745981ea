import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capUsed, formatAmount, formatBilled, includedMinutes, limitsFrom, usageLabel } from './billing.ts';

test('amounts under one unit keep four decimals, larger ones two', () => {
  assert.equal(formatAmount('0.045417', 'USD'), '$0.0454');
  assert.equal(formatAmount('0', 'USD'), '$0.00');
  assert.equal(formatAmount('1000', 'EUR'), '€1,000.00');
  assert.equal(formatAmount('12.5', 'GBP'), '£12.50');
  // Credits: the same precision as charges.
  assert.equal(formatAmount('-0.045417', 'USD'), '-$0.0454');
  assert.equal(formatAmount('-12.5', 'USD'), '-$12.50');
});

test('included minutes are named only when the plan has some', () => {
  assert.equal(includedMinutes({ includedMinutesPerSeat: 0, includedMinutesPerTenant: 0 }), '');
  assert.equal(includedMinutes({ includedMinutesPerSeat: 100, includedMinutesPerTenant: 0 }), ', 100 minutes a person included');
  assert.equal(
    includedMinutes({ includedMinutesPerSeat: 100, includedMinutesPerTenant: 2000 }),
    ', 100 minutes a person and 2,000 for the organisation included',
  );
});

test('the share of a cap used is whole percent, never full before it is, and none without a cap', () => {
  assert.equal(capUsed('80', '100'), 80);
  assert.equal(capUsed('99.99', '100'), 99);
  assert.equal(capUsed('150', '100'), 100);
  assert.equal(capUsed('5', null), null);
  assert.equal(capUsed('0', '0'), 100);
});

test('billed time reads as seconds, minutes, or hours and minutes', () => {
  assert.deepEqual([formatBilled(45), formatBilled(61), formatBilled(3600), formatBilled(11_100)], ['45 s', '2 min', '1 h 00 min', '3 h 05 min']);
});

test('a day row shows as a date; other rows by their label', () => {
  const row = { key: '2026-12-04', label: '2026-12-04', calls: 1, billedSeconds: 60, cost: '0.01' };
  assert.equal(usageLabel(row, 'day'), '4 Dec');
  assert.equal(usageLabel({ ...row, key: 'user-1', label: 'Bob Brown' }, 'user'), 'Bob Brown');
});

test('an empty limit field means no cap', () => {
  assert.deepEqual(limitsFrom({ dailyCap: ' 50 ', monthlyCap: '' }), { dailyCap: '50', monthlyCap: null });
});

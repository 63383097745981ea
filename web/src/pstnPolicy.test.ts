import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { PstnPolicy } from '@callstack/protocol';
import { fromDraft, toDraft } from './components/admin/NumbersPanel.tsx';

const policy: PstnPolicy = {
  defaultCountry: 'GB',
  internationalCountries: ['FR', 'DE'],
  allowedPrefixes: ['+4490'],
  maxConcurrentCalls: 10,
  maxConcurrentCallsPerUser: 2,
  maxCallsPerSecond: 1.5,
  maxCallsPerMinutePerUser: 10,
  maxCallDurationSeconds: 14_400,
  mainNumber: null,
};

test('the policy form shows the policy as it is, and saves it back unchanged', () => {
  const draft = toDraft(policy);
  assert.equal(draft.maxCallDurationMinutes, '240');
  assert.equal(draft.internationalCountries, 'FR, DE');
  assert.deepEqual(v.parse(PstnPolicy, fromDraft(draft)), policy);
});

test('what an admin types is read as the edge wants it, and a wrong value is refused by the schema', () => {
  const typed = {
    ...toDraft(policy),
    defaultCountry: ' us ',
    internationalCountries: 'fr de,gb',
    allowedPrefixes: '+44 90, +44 (91)',
    mainNumber: '+44 20 7946 0958',
  };
  assert.deepEqual(v.parse(PstnPolicy, fromDraft(typed)), {
    ...policy,
    defaultCountry: 'US',
    internationalCountries: ['FR', 'DE', 'GB'],
    allowedPrefixes: ['+4490', '+4491'],
    mainNumber: '+442079460958',
  });
  for (const wrong of [{ defaultCountry: 'Britain' }, { maxConcurrentCalls: 'lots' }, { maxCallDurationMinutes: '0.5' }, { mainNumber: '12' }]) {
    assert.equal(v.safeParse(PstnPolicy, fromDraft({ ...toDraft(policy), ...wrong })).success, false, JSON.stringify(wrong));
  }
});

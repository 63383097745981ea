/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contactsQuery, newContactRequest, type NewContactForm } from './contacts.ts';

const external = (phone: string, displayName = 'Plumber'): NewContactForm => ({ kind: 'external', userId: '', displayName, phone });

test('the contacts query carries the trimmed search and the favorites filter only when set', () => {
  assert.equal(contactsQuery({ search: '', favoritesOnly: false }), '');
  assert.equal(contactsQuery({ search: '  ann ', favoritesOnly: false }), 'q=ann');
  assert.equal(contactsQuery({ search: '+44 20', favoritesOnly: true }), 'q=%2B44+20&favorites=true');
});

test('numbers are accepted as people write them and sent in E.164', () => {
  assert.deepEqual(newContactRequest(external('+44 (20) 7946-0958')), {
    request: { kind: 'external', phone: '+442079460958', displayName: 'Plumber' },
  });
  assert.deepEqual(newContactRequest(external('+1.415.555.0100')), {
    request: { kind: 'external', phone: '+14155550100', displayName: 'Plumber' },
  });
});

test('a number without its country code, or with letters, is refused with the protocol message', () => {
  for (const phone of ['020 7946 0958', '+44 20 CALL ME', '+0 123', '+1']) {
    assert.deepEqual(newContactRequest(external(phone)), {
      problem: 'Number: use an international number such as +44 20 7946 0958.',
    });
  }
  assert.deepEqual(newContactRequest(external('')), { problem: 'Number is required.' });
  assert.deepEqual(newContactRequest(external('+442079460958', ' ')), { problem: 'Name is required.' });
});

test('a colleague needs only the person; a blank name keeps theirs', () => {
  const colleague: NewContactForm = { kind: 'user', userId: 'u-1', displayName: ' ', phone: 'ignored' };
  assert.deepEqual(newContactRequest(colleague), { request: { kind: 'user', userId: 'u-1' } });
  assert.deepEqual(newContactRequest({ ...colleague, displayName: 'Ann (desk)' }), {
    request: { kind: 'user', userId: 'u-1', displayName: 'Ann (desk)' },
  });
  assert.deepEqual(newContactRequest({ ...colleague, userId: '' }), { problem: 'Colleague is required.' });
});

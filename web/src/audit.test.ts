/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry } from '@callstack/protocol';
import { auditDetails, auditPage, auditQuery, NO_FILTER } from './audit.ts';

const entry = (id: string): AuditEntry => ({
  id,
  actorType: 'user',
  actorId: 'u1',
  action: 'invite.created',
  targetType: 'invite',
  targetId: 'i1',
  ip: null,
  details: {},
  createdAt: '2026-01-01T00:00:00.000Z',
});

test('filters and the paging cursor become query parameters; empty filters are left out', () => {
  assert.equal(auditQuery(NO_FILTER, null, 25), 'limit=26');
  assert.equal(auditQuery({ action: 'user.role_changed', actor: '' }, null, 25), 'action=user.role_changed&limit=26');
  assert.equal(auditQuery({ action: '', actor: 'user 1&x' }, '42', 10), 'actor=user+1%26x&before=42&limit=11');
});

test('a page has an older cursor only when the edge returned more than a page', () => {
  const full = ['9', '8', '7'].map(entry);
  assert.deepEqual(auditPage(full, 2), { entries: full.slice(0, 2), older: '8' });
  assert.deepEqual(auditPage(full.slice(0, 2), 2), { entries: full.slice(0, 2), older: null });
  assert.deepEqual(auditPage([], 2), { entries: [], older: null });
});

test('details read as words: role changes as from/to, the rest as key: value', () => {
  assert.equal(auditDetails({ action: 'user.role_changed', details: { from: 'user', to: 'operator' } }), 'from user to operator');
  assert.equal(auditDetails({ action: 'invite.created', details: { email: 'a@b.test', role: 'user' } }), 'email: a@b.test, role: user');
  assert.equal(auditDetails({ action: 'api_key.used', details: { n: 2 } }), 'n: 2');
  assert.equal(auditDetails({ action: 'tenant.created', details: {} }), '');
});

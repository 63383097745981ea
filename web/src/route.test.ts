/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inviteToken, parseRoute, resetToken, routePath } from './route.ts';

const token = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde';

test('the invite token comes from the fragment, only in the shape the edge accepts', () => {
  assert.equal(inviteToken(`#${token}`), token);
  assert.equal(inviteToken(`#${encodeURIComponent(token)}%20`), token);
  assert.equal(inviteToken(''), null);
  assert.equal(inviteToken('#short'), null);
  assert.equal(inviteToken('#%E0%A4%A'), null, 'malformed escapes');
  assert.equal(inviteToken(`#${'x'.repeat(300)}`), null);
});

test('the reset token comes from the fragment; a cut or mangled link gives none', () => {
  assert.equal(resetToken(`#${token}`), token);
  assert.equal(resetToken(` #${token}`.trim()), token);
  assert.equal(resetToken(`#${token.slice(0, 10)}`), null, 'cut short by a mail client');
  assert.equal(resetToken('#'), null);
  assert.equal(resetToken('#%zz'), null);
  assert.deepEqual(parseRoute('/reset', `#${token}`), { screen: 'reset', token });
  assert.deepEqual(parseRoute('/reset/', ''), { screen: 'reset', token: null });
});

test('paths map to screens; unknown paths are the softphone', () => {
  assert.deepEqual(parseRoute('/', ''), { screen: 'phone' });
  assert.deepEqual(parseRoute('/signup/', ''), { screen: 'signup' });
  assert.deepEqual(parseRoute('/invite', `#${token}`), { screen: 'invite', token });
  assert.deepEqual(parseRoute('/invite', ''), { screen: 'invite', token: null });
  assert.deepEqual(parseRoute('/profile', ''), { screen: 'profile' });
  assert.deepEqual(parseRoute('/recordings/', ''), { screen: 'recordings' });
  assert.deepEqual(parseRoute(routePath({ screen: 'recordings' }), ''), { screen: 'recordings' });
  assert.deepEqual(parseRoute('/forgot-password', ''), { screen: 'forgot-password' });
  assert.deepEqual(parseRoute('/admin', ''), { screen: 'admin', tab: 'users' });
  assert.deepEqual(parseRoute('/admin/audit', ''), { screen: 'admin', tab: 'audit' });
  assert.deepEqual(parseRoute('/admin/api-keys', ''), { screen: 'admin', tab: 'api-keys' });
  assert.deepEqual(parseRoute('/admin/nothing', ''), { screen: 'phone' });
  assert.deepEqual(parseRoute('/elsewhere', ''), { screen: 'phone' });
});

test('every admin tab has a path that parses back to it', () => {
  for (const tab of ['users', 'api-keys', 'audit'] as const) {
    assert.deepEqual(parseRoute(routePath({ screen: 'admin', tab }), ''), { screen: 'admin', tab });
  }
});

/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inviteToken, parseRoute, resetToken, roomIdFromLink, routePath } from './route.ts';

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
  const token = 'a'.repeat(43);
  assert.deepEqual(parseRoute('/signup', `#${token}`), { screen: 'signup-confirm', token });
  assert.deepEqual(parseRoute('/signup', '#short'), { screen: 'signup' }, 'a mangled link is the sign-up form');
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
  for (const tab of ['users', 'numbers', 'api-keys', 'audit'] as const) {
    assert.deepEqual(parseRoute(routePath({ screen: 'admin', tab }), ''), { screen: 'admin', tab });
  }
});

test('meeting links: /rooms is the meetings page, /rooms/<id> a room; a pasted link or id gives the room', () => {
  const id = '3f0c7a52-1b7e-4a51-9d7e-0e1f2a3b4c5d';
  assert.deepEqual(parseRoute('/rooms', ''), { screen: 'meetings' });
  assert.deepEqual(parseRoute(`/rooms/${id}/`, ''), { screen: 'room', roomId: id });
  assert.deepEqual(parseRoute('/rooms/not%20an%20id', ''), { screen: 'meetings' });
  assert.deepEqual(parseRoute('/rooms/%zz', ''), { screen: 'meetings' });
  assert.equal(routePath({ screen: 'room', roomId: id }), `/rooms/${id}`);
  assert.equal(roomIdFromLink(`https://calls.example.com/rooms/${id}`), id);
  assert.equal(roomIdFromLink(`  http://127.0.0.1:8787/rooms/${id}?x=1 `), id);
  assert.equal(roomIdFromLink(id), id);
  assert.equal(roomIdFromLink('https://example.com/elsewhere'), null);
  assert.equal(roomIdFromLink(''), null);
});

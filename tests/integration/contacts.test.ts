/** Personal address books: colleagues and E.164 numbers, favorites, search, isolation. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContactsResponse, ContactView } from '@callstack/protocol';
import { api, createTenant, login } from '../lib/fixtures.ts';

type ErrorBody = { error: { code: string; message: string } };

describe('contacts', () => {
  test('colleagues and external numbers, normalised, searchable, favorites first', async () => {
    const { users } = await createTenant();
    const { accessToken: auth } = await login(users.bob);

    const colleague = await api<ContactView>('POST', '/api/contacts', { auth, body: { kind: 'user', userId: users.carol.id } });
    assert.equal(colleague.status, 201);
    assert.deepEqual(
      [colleague.body.kind, colleague.body.userId, colleague.body.displayName, colleague.body.email, colleague.body.phone],
      ['user', users.carol.id, users.carol.displayName, users.carol.email, null],
    );
    const plumber = await api<ContactView>('POST', '/api/contacts', {
      auth,
      body: { kind: 'external', phone: '+44 (20) 7946-0958', displayName: 'Zed the Plumber', favorite: true },
    });
    assert.equal(plumber.status, 201);
    assert.equal(plumber.body.phone, '+442079460958');

    const bad = await api<ErrorBody>('POST', '/api/contacts', { auth, body: { kind: 'external', phone: '020 7946 0958', displayName: 'Local' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^phone: /);
    const duplicate = await api<ErrorBody>('POST', '/api/contacts', { auth, body: { kind: 'external', phone: '+442079460958', displayName: 'Again' } });
    assert.equal(duplicate.status, 409);

    const all = await api<ContactsResponse>('GET', '/api/contacts', { auth });
    assert.deepEqual(
      all.body.contacts.map((contact) => contact.displayName),
      ['Zed the Plumber', users.carol.displayName],
    );
    const byNumber = await api<ContactsResponse>('GET', '/api/contacts?q=79460', { auth });
    assert.deepEqual(
      byNumber.body.contacts.map((contact) => contact.id),
      [plumber.body.id],
    );
    const byEmail = await api<ContactsResponse>('GET', `/api/contacts?q=${encodeURIComponent(users.carol.email.slice(0, 8).toUpperCase())}`, { auth });
    assert.deepEqual(
      byEmail.body.contacts.map((contact) => contact.id),
      [colleague.body.id],
    );
    const wildcard = await api<ContactsResponse>('GET', '/api/contacts?q=%25', { auth });
    assert.deepEqual(wildcard.body.contacts, [], 'LIKE wildcards are searched for literally');

    const favored = await api<ContactView>('PATCH', `/api/contacts/${colleague.body.id}`, { auth, body: { favorite: true, displayName: 'Carol from Sales' } });
    assert.equal(favored.status, 200);
    assert.deepEqual([favored.body.favorite, favored.body.displayName], [true, 'Carol from Sales']);
    const favorites = await api<ContactsResponse>('GET', '/api/contacts?favorites=true', { auth });
    assert.equal(favorites.body.contacts.length, 2);
    const renumber = await api<ErrorBody>('PATCH', `/api/contacts/${colleague.body.id}`, { auth, body: { phone: '+4930123456' } });
    assert.equal(renumber.status, 400);
    const empty = await api<ErrorBody>('PATCH', `/api/contacts/${plumber.body.id}`, { auth, body: {} });
    assert.equal(empty.status, 400);

    assert.equal((await api('DELETE', `/api/contacts/${plumber.body.id}`, { auth })).status, 204);
    assert.equal((await api('DELETE', `/api/contacts/${plumber.body.id}`, { auth })).status, 404);
  });

  test('an address book is private: colleagues and other tenants get 404, never data', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const [bob, dave, alice, foreigner] = await Promise.all([
      login(tenant.users.bob),
      login(tenant.users.dave),
      login(tenant.users.alice),
      login(other.users.bob),
    ]);
    const contact = await api<ContactView>('POST', '/api/contacts', {
      auth: bob.accessToken,
      body: { kind: 'external', phone: '+14155550100', displayName: 'Private' },
    });

    for (const auth of [dave.accessToken, alice.accessToken, foreigner.accessToken]) {
      assert.deepEqual((await api<ContactsResponse>('GET', '/api/contacts', { auth })).body.contacts, []);
      assert.equal((await api('PATCH', `/api/contacts/${contact.body.id}`, { auth, body: { favorite: true } })).status, 404);
      assert.equal((await api('DELETE', `/api/contacts/${contact.body.id}`, { auth })).status, 404);
    }
    const crossTenant = await api<ErrorBody>('POST', '/api/contacts', { auth: foreigner.accessToken, body: { kind: 'user', userId: tenant.users.bob.id } });
    assert.equal(crossTenant.status, 404);
    assert.equal((await api('GET', '/api/contacts')).status, 401);
  });
});

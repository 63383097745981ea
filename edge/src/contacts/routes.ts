/** The caller's own address book: colleagues and external numbers, favorites, search. */
import { assertNever, ErrorCode, type ContactsResponse, type ContactView, type CreateContactRequest, type UpdateContactRequest } from '@callstack/protocol';
import { signedInUser } from '../auth/authenticate.ts';
import { withDb } from '../db/client.ts';
import { createContact, deleteContact, listContacts, updateContact } from '../db/contacts.ts';
import { ApiError } from '../errors.ts';
import { json } from '../http.ts';
import type { Handler } from '../pipeline.ts';

export interface ContactsQuery {
  /** Search in name, email and number; empty means no search. */
  q: string | undefined;
  favorites: boolean;
}

/** Address books belong to people; an API key has none. */
const NOT_A_PERSON = 'address books belong to signed-in users';

export const contactsList: Handler<'bearer', undefined, ContactsQuery> = async ({ env, principal, query }) => {
  const owner = signedInUser(principal, NOT_A_PERSON);
  const contacts = await withDb(env, (db) => listContacts(db, owner.tenantId, owner.userId, { search: query.q || undefined, favoritesOnly: query.favorites }));
  return json({ contacts } satisfies ContactsResponse);
};

export const contactsCreate: Handler<'bearer', CreateContactRequest> = async ({ env, principal, body }) => {
  const owner = signedInUser(principal, NOT_A_PERSON);
  const result = await withDb(env, (db) => createContact(db, owner.tenantId, owner.userId, body));
  switch (result.outcome) {
    case 'created':
      return json(result.contact satisfies ContactView, 201);
    case 'no_such_user':
      throw new ApiError(ErrorCode.notFound, 'no such user in your organisation');
    case 'duplicate':
      throw new ApiError(ErrorCode.conflict, 'this contact is already in your address book');
    default:
      return assertNever(result);
  }
};

export const contactsUpdate: Handler<'bearer', UpdateContactRequest> = async ({ env, principal, body, params }) => {
  const owner = signedInUser(principal, NOT_A_PERSON);
  const result = await withDb(env, (db) => updateContact(db, owner.tenantId, owner.userId, params.id!, body));
  switch (result.outcome) {
    case 'updated':
      return json(result.contact satisfies ContactView);
    case 'not_found':
      throw new ApiError(ErrorCode.notFound, 'no such contact');
    case 'not_external':
      throw new ApiError(ErrorCode.badRequest, 'phone: a colleague is called by name, not by number');
    case 'duplicate':
      throw new ApiError(ErrorCode.conflict, 'another contact already has this number');
    default:
      return assertNever(result);
  }
};

export const contactsDelete: Handler<'bearer'> = async ({ env, principal, params }) => {
  const owner = signedInUser(principal, NOT_A_PERSON);
  if (!(await withDb(env, (db) => deleteContact(db, owner.tenantId, owner.userId, params.id!)))) {
    throw new ApiError(ErrorCode.notFound, 'no such contact');
  }
  return new Response(null, { status: 204 });
};

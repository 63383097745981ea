/** The caller's own address book: colleagues and external numbers, favorites, search. */
import { assertNever, CreateContactRequest, ErrorCode, UpdateContactRequest, type ContactsResponse, type ContactView } from '@callstack/protocol';
import type { IRequest } from 'itty-router';
import { authenticate } from '../auth/routes.ts';
import type { Principal } from '../auth/tokens.ts';
import { withDb } from '../db/client.ts';
import { createContact, deleteContact, listContacts, updateContact } from '../db/contacts.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import { json, readJson } from '../http.ts';

export async function contactsList(request: Request, env: Env): Promise<Response> {
  const owner = await contactOwner(request, env);
  const query = new URL(request.url).searchParams;
  const search = query.get('q')?.trim().slice(0, 100) || undefined;
  const contacts = await withDb(env, (db) => listContacts(db, owner.tenantId, owner.userId, { search, favoritesOnly: query.get('favorites') === 'true' }));
  return json({ contacts } satisfies ContactsResponse);
}

export async function contactsCreate(request: Request, env: Env): Promise<Response> {
  const owner = await contactOwner(request, env);
  const body = await readJson(request, CreateContactRequest);
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
}

export async function contactsUpdate(request: IRequest, env: Env): Promise<Response> {
  const owner = await contactOwner(request, env);
  const body = await readJson(request, UpdateContactRequest);
  const result = await withDb(env, (db) => updateContact(db, owner.tenantId, owner.userId, request.params.id!, body));
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
}

export async function contactsDelete(request: IRequest, env: Env): Promise<Response> {
  const owner = await contactOwner(request, env);
  if (!(await withDb(env, (db) => deleteContact(db, owner.tenantId, owner.userId, request.params.id!)))) {
    throw new ApiError(ErrorCode.notFound, 'no such contact');
  }
  return new Response(null, { status: 204 });
}

/** Address books belong to people; an API key has none. */
async function contactOwner(request: Request, env: Env): Promise<Principal> {
  const principal = await authenticate(request, env, 'contacts.manage_own');
  if (principal.actorType !== 'user') throw new ApiError(ErrorCode.forbidden, 'address books belong to signed-in users');
  return principal;
}

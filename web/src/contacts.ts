/** The address book's query string and the add form's request (pure, so they are unit-tested). */
import * as v from 'valibot';
import { CreateContactRequest } from '@callstack/protocol';
import { formProblem } from './forms.ts';

export interface ContactsFilter {
  search: string;
  favoritesOnly: boolean;
}

export function contactsQuery({ search, favoritesOnly }: ContactsFilter): string {
  const query = new URLSearchParams();
  if (search.trim()) query.set('q', search.trim());
  if (favoritesOnly) query.set('favorites', 'true');
  return query.toString();
}

/** What the add form holds; `kind` decides which of the other fields count. */
export interface NewContactForm {
  kind: 'user' | 'external';
  userId: string;
  displayName: string;
  phone: string;
}

export const NEW_CONTACT_LABELS = { userId: 'Colleague', displayName: 'Name', phone: 'Number' };

/**
 * The request for the add form, or the sentence to show. A number is written as people do
 * (`+44 20 7946 0958`); the protocol's E164 schema drops the spaces and brackets.
 */
export function newContactRequest(form: NewContactForm): { request: CreateContactRequest } | { problem: string } {
  const name = form.displayName.trim();
  const input =
    form.kind === 'user'
      ? { kind: 'user', userId: form.userId, ...(name ? { displayName: name } : {}) }
      : { kind: 'external', phone: form.phone, displayName: name };
  const parsed = v.safeParse(CreateContactRequest, input);
  return parsed.success ? { request: parsed.output } : { problem: formProblem(parsed.issues, NEW_CONTACT_LABELS) };
}

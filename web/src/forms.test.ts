/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { SignupRequest } from '@callstack/protocol';
import { formProblem } from './forms.ts';

const labels = { organisation: 'Organisation', displayName: 'Your name', email: 'Email', password: 'Password' };
const valid = { organisation: 'Acme', displayName: 'Olivia', email: 'o@acme.test', password: 'long enough password' };

function problem(input: Record<string, string>): string {
  const result = v.safeParse(SignupRequest, input);
  assert.ok(!result.success);
  return formProblem(result.issues, labels);
}

test('the first failing field is named by its label, in words a person can act on', () => {
  assert.equal(problem({ ...valid, organisation: '  ' }), 'Organisation is required.');
  assert.equal(problem({ ...valid, organisation: 'A' }), 'Organisation is too short.');
  assert.equal(problem({ ...valid, email: 'not-an-email' }), 'Email is not valid.');
  assert.equal(problem({ ...valid, password: 'short' }), 'Password: use at least 10 characters.');
  assert.equal(problem({ ...valid, displayName: 'x'.repeat(101) }), 'Your name is too long.');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as v from 'valibot';
import { characterCount, Text, withoutLoneSurrogates } from './text.ts';

const Name = Text({ min: 1, max: 5 });

test('Text refuses NUL, control characters and lone surrogates', () => {
  for (const bad of ['Probe\u0000Fuzz', 'a\u0007b', 'Probe\udfff\ud800', '\ud800', 'x\udc00']) {
    assert.equal(v.safeParse(Text({ max: 100 }), bad).success, false, JSON.stringify(bad));
  }
  assert.equal(v.safeParse(Text({ max: 100 }), 'two\nlines').success, false);
  assert.equal(v.safeParse(Text({ max: 100, multiline: true }), 'two\nlines').success, true);
});

test('Text trims, normalises to NFC and counts characters, not UTF-16 units', () => {
  assert.equal(v.parse(Name, '  e\u0301  '), '\u00e9');
  assert.equal(v.parse(Name, '😀😀😀😀😀'), '😀😀😀😀😀');
  assert.equal(v.safeParse(Name, '😀😀😀😀😀😀').success, false);
  assert.equal(v.safeParse(Name, '   ').success, false);
});

test('whatever Text accepts is clean, NFC and within its length', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (input) => {
      const result = v.safeParse(Text({ max: 8 }), input);
      if (!result.success) return;
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(result.output, /[\u0000-\u001f\u007f]/);
      assert.equal(result.output, result.output.normalize('NFC'));
      assert.ok(characterCount(result.output) <= 8);
      // Postgres text and JSON both take it; encodeURIComponent throws on a lone surrogate.
      assert.equal(JSON.parse(JSON.stringify(result.output)), result.output);
      assert.doesNotThrow(() => encodeURIComponent(result.output));
    }),
  );
});

test('withoutLoneSurrogates replaces only unpaired halves, as UTF-8 encoding would', () => {
  assert.equal(withoutLoneSurrogates('Bob \udfff and \ud800x 😀'), 'Bob \ufffd and \ufffdx 😀');
  assert.equal(new TextDecoder().decode(new TextEncoder().encode('a\udc00')), withoutLoneSurrogates('a\udc00'));
});

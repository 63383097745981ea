/// <reference types="node" />
/**
 * WCAG 2.2 AA contrast of the palette, light and dark: every pair of text and background colour
 * the stylesheet puts together reaches 4.5:1 (normal text). Read from styles.css itself, so a
 * changed colour is checked where it is defined.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');

function variables(block: string): Map<string, string> {
  return new Map([...block.matchAll(/--([a-z0-9-]+):\s*(#[0-9a-f]{6})\s*;/gi)].map((match) => [match[1]!, match[2]!.toLowerCase()]));
}

const light = variables(css.slice(css.indexOf(':root {'), css.indexOf('}', css.indexOf(':root {'))));
const darkStart = css.indexOf(':root {', css.indexOf('@media (prefers-color-scheme: dark)'));
const dark = new Map([...light, ...variables(css.slice(darkStart, css.indexOf('}', darkStart)))]);

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const channel = parseInt(hex.slice(at, at + 2), 16) / 255;
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

export function contrast(foreground: string, background: string): number {
  const [lighter, darker] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (lighter! + 0.05) / (darker! + 0.05);
}

/** Text colour on background, as the stylesheet pairs them (`#fff` is literal white text). */
const PAIRS: [string, string][] = [
  ['text', 'bg'],
  ['text', 'surface'],
  ['text', 'surface-2'],
  ['muted', 'bg'],
  ['muted', 'surface'],
  ['muted', 'surface-2'],
  ['accent-text', 'accent-soft'],
  ['accent-text', 'surface'],
  ['accent-text', 'bg'],
  ['accent', 'surface'],
  ['accent', 'bg'],
  ['on-accent', 'accent'],
  ['danger', 'danger-soft'],
  ['danger', 'surface'],
  ['#ffffff', 'danger-button'],
  ['#ffffff', 'stage'],
  ['surface', 'text'],
];

test('the palette, light and dark, reaches 4.5:1 for every text and background pair', () => {
  for (const [scheme, palette] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    const colour = (name: string) => (name.startsWith('#') ? name : palette.get(name)) ?? assert.fail(`--${name} is not defined (${scheme})`);
    for (const [foreground, background] of PAIRS) {
      const ratio = contrast(colour(foreground), colour(background));
      assert.ok(ratio >= 4.5, `${scheme}: ${foreground} on ${background} is ${ratio.toFixed(2)}:1`);
    }
  }
});

test('the contrast formula gives the known ratios', () => {
  assert.equal(contrast('#000000', '#ffffff').toFixed(1), '21.0');
  assert.equal(contrast('#ffffff', '#ffffff'), 1);
  // The measurement: the old accent on its soft background.
  assert.equal(contrast('#2563eb', '#e3ebfd').toFixed(2), '4.32');
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './stack.ts';
import { importCycles } from './importCycles.ts';

test('edge/src has no runtime import cycle (type-only cycles are fine)', () => {
  assert.deepEqual(importCycles(join(ROOT, 'edge/src')), []);
});

test('the checker finds a runtime cycle and ignores a type-only one', () => {
  const root = mkdtempSync(join(tmpdir(), 'cycles-'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'a.ts'), "import { b } from './sub/b.ts';\nexport const a = b;\n");
  writeFileSync(join(root, 'sub/b.ts'), "import { a } from '../a.ts';\nexport const b = 1; void a;\n");
  writeFileSync(join(root, 'c.ts'), "import type { D } from './d.ts';\nexport type C = D;\n");
  writeFileSync(join(root, 'd.ts'), "import { type C } from './c.ts';\nexport type D = C | 1;\n");
  assert.deepEqual(importCycles(root), [['a.ts', 'sub/b.ts']]);
});

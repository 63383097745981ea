/**
 * Where `npm test` finds tests: every `*.test.ts` in the checkout belongs to exactly one suite,
 * found by walking that suite's folders at any depth, so a test file can neither be missed nor
 * run twice (the rule is in tests/README.md).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders that hold dependencies, build output or run state, never tests of ours. */
const SKIPPED = new Set(['node_modules', 'dist', '.tmp', '.data', '.git', '.wrangler', 'cdk.out']);

/** What looks like a test in any common spelling; only `.test.ts` is one of ours. */
const TEST_LIKE = /\.(test|spec)\.[cm]?[jt]sx?$/;
const TEST_FILE = '.test.ts';

/** Test-like files under `dir` (relative to `root`), at any depth, as sorted `/`-separated paths. */
export function findTestFiles(root: string, dir = ''): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory() && !SKIPPED.has(entry.name)) found.push(...findTestFiles(root, path));
    else if (entry.isFile() && TEST_LIKE.test(entry.name)) found.push(path);
  }
  return found.sort();
}

export interface Claims {
  /** Each suite's test files, sorted; a suite without any still has an (empty) entry. */
  bySuite: Map<string, string[]>;
  /** One line per file that breaks the rule, naming it. */
  problems: string[];
}

/** Assigns each file to the suite whose root folder holds it (`roots`: suite name → folders). */
export function claimTestFiles(files: readonly string[], roots: Readonly<Record<string, readonly string[]>>): Claims {
  const bySuite = new Map(Object.keys(roots).map((suite) => [suite, [] as string[]]));
  const problems: string[] = [];
  for (const file of files) {
    if (!file.endsWith(TEST_FILE)) {
      problems.push(`${file}: not run; name test files <name>${TEST_FILE}`);
      continue;
    }
    const owners = Object.keys(roots).filter((suite) => roots[suite]!.some((folder) => file.startsWith(`${folder}/`)));
    if (owners.length === 1) bySuite.get(owners[0]!)!.push(file);
    else if (owners.length === 0) problems.push(`${file}: not run; it is in no suite's folder (${Object.values(roots).flat().join(', ')})`);
    else problems.push(`${file}: claimed by several suites (${owners.join(', ')}); each file belongs to one`);
  }
  for (const list of bySuite.values()) list.sort();
  return { bySuite, problems };
}

// docs/CONFIGURATION.md is the operator's reference: every environment variable shared/config.ts
// reads has its row there, and every row names a variable that is read. Pure: reads files only.
import { readFileSync } from 'node:fs';
import { expect, it } from '@jest/globals';

const ROOT = new URL('../../../', import.meta.url);
const source = readFileSync(new URL('shared/config.ts', ROOT), 'utf8');
const page = readFileSync(new URL('docs/CONFIGURATION.md', ROOT), 'utf8');

/** The names in `const VARIABLES = [...]`, the list readEnv takes from the environment. */
const list = /const VARIABLES = \[([\s\S]*?)\] as const/.exec(source);
const read = [...(list?.[1] ?? '').matchAll(/'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]);

/** The variables named in the first cell of each table row: `| \`A\`, \`B\` | default | meaning |`. */
const documented = page.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]));

it('reads the variable list of shared/config.ts', () => {
  expect(read.length).toBeGreaterThan(40);
  expect(read).toContain('DATABASE_URL');
});

it('documents every variable in docs/CONFIGURATION.md', () => {
  expect(read.filter((name) => !documented.includes(name))).toEqual([]);
});

it('documents no variable that is not read', () => {
  expect(documented.filter((name) => !read.includes(name))).toEqual([]);
});

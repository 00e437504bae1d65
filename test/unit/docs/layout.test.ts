// The README's "Project layout" matches the tree: every top-level folder of the repository
// (less what .gitignore leaves out: node_modules, dist …) has its line, every line names one
// that exists, and each indented `name/` exists under the folder above it. Pure: reads files only.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced block under `## Project layout`. */
const section = readme.split(/^## /m).find((s) => s.startsWith('Project layout')) ?? '';
const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

// Top-level names .gitignore leaves out (node_modules, /dist, the dist.*.tmp* globs), as patterns.
const ignored = readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')
  .map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''))
  .filter((l) => l !== '' && !l.startsWith('#') && !l.includes('/'))
  .map((l) => new RegExp('^' + l.split('*').map((part) => part.replace(/[.+?^$|()[\]{}\\]/g, '\\$&')).join('.*') + '$'));

const folders = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== '.git' && !ignored.some((r) => r.test(e.name)))
  .map((e) => e.name).sort();

/** `api/  the api process…` → top `api`; `.ci/run  CI entry…` → top `.ci`, path `.ci/run`. */
const entries: Array<{ top: string; path: string; children: string[] }> = [];
for (const line of block.split('\n')) {
  const top = /^(\.?[\w-]+)(\/\S*)?\s/.exec(line);
  if (top) {
    entries.push({ top: top[1], path: top[1] + (top[2] ?? ''), children: [] });
    continue;
  }
  // An indented line naming sub-folders: `  auth/  …`, `  calendar/, figures/, schemas/  …`.
  const sub = /^ {2}([\w-]+\/(?:, [\w-]+\/)*)\s/.exec(line);
  if (sub && entries.length > 0) entries[entries.length - 1].children.push(...sub[1].split(', ').map((n) => n.replace(/\/$/, '')));
}

it('reads the layout block', () => {
  expect(entries.length).toBeGreaterThan(10);
});

it('lists every top-level folder, and only those', () => {
  expect([...new Set(entries.map((e) => e.top))].sort()).toEqual(folders);
});

it('names only paths that exist', () => {
  const missing = entries.flatMap((e) => [
    ...(existsSync(path.join(ROOT, e.path)) ? [] : [e.path]),
    ...e.children.filter((c) => !(existsSync(path.join(ROOT, e.top, c)) && statSync(path.join(ROOT, e.top, c)).isDirectory())).map((c) => `${e.top}/${c}/`),
  ]);
  expect(missing).toEqual([]);
});

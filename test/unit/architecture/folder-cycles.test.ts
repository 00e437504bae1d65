// No two folders of the service import each other, directly or round a loop (issue 26 §4): a
// loop means neither folder can be read, tested or moved without the other. The graph is built
// from the import statements of the source itself (relative imports; `import type` is left out,
// erased at build). Every pair of folders is held to it, a folder and the one it contains too: a
// folder's root files are what its subfolders build on (db/database.ts, channels/description/, api/context/), and what
// composes the subfolders lives in a subfolder of its own (db/startup/, web/src/app/) or in a root
// that nothing below imports (api/app.ts, worker/worker.ts, channels/registry.ts).
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@jest/globals';

const ROOTS = ['api', 'worker', 'channels', 'shared', 'runtime', 'db', 'web/src', 'bin', 'simulator'];
const IMPORT = /^\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm;
/** The same with `import type` and `export type` too. */
const ANY_IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'dist' || e.name === 'node_modules' ? [] : sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Folder → the folders its files import from (`types`: counting type-only imports too). */
function folderGraph(types = false): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of ROOTS.flatMap(sourceFiles)) {
    const from = path.dirname(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(types ? ANY_IMPORT : IMPORT)) {
      const target = path.dirname(path.normalize(path.join(from, m[1] ?? m[2])));
      if (target !== from) edges.add(target);
    }
  }
  return graph;
}

/** Strongly connected groups of more than one folder (Tarjan). */
function loops(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const info = new Map<string, { index: number; low: number; onStack: boolean }>();
  const found: string[][] = [];
  const visit = (v: string) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!info.has(w)) {
        visit(w);
        info.get(v)!.low = Math.min(info.get(v)!.low, info.get(w)!.low);
      } else if (info.get(w)!.onStack) info.get(v)!.low = Math.min(info.get(v)!.low, info.get(w)!.index);
    }
    if (info.get(v)!.low === info.get(v)!.index) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        info.get(w)!.onStack = false;
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!info.has(v)) visit(v);
  return found;
}

test('the folders of the service import one way: no loop between folders', () => {
  const graph = folderGraph();
  expect(graph.size).toBeGreaterThan(20);
  expect(loops(graph)).toEqual([]);
});

test('types alone close one loop, known: the dashboard\'s messages', () => {
  // i18n.ts types every language's messages as en.ts's (Messages), and the language files write
  // their plurals and numbers with web/src/intl.ts. Erased when bundled; a new loop fails here.
  expect(loops(folderGraph(true))).toEqual([['web/src', 'web/src/locales']]);
});

test('the worker\'s import does not reach back to the worker\'s root, which serves its metrics', () => {
  const importing = ROOTS.flatMap(sourceFiles).filter((f) => f.startsWith('worker/import/'));
  for (const file of importing) expect({ file, imports: /from '\.\.\/(metrics|worker|context)\.js'/.test(fs.readFileSync(file, 'utf8').replace(/^import type .*$/gm, '')) }).toEqual({ file, imports: false });
});

test('the check sees a loop when there is one, a folder and its subfolder included', () => {
  expect(loops(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]))).toEqual([['a', 'b', 'c']]);
  expect(loops(new Map([['api', new Set(['api/http'])], ['api/http', new Set(['api'])]]))).toEqual([['api', 'api/http']]);
});

test('the graph has the edges between a folder and its subfolders', () => {
  const graph = folderGraph();
  // api/app.ts mounts the routes; db/startup builds on db/repositories, which build on db/'s root.
  expect([graph.get('api')?.has('api/routes'), graph.get('db/startup')?.has('db/repositories'), graph.get('db/repositories')?.has('db')]).toEqual([true, true, true]);
});

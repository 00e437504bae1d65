// Every relative link of the project's markdown pages (README.md, bench/README.md, docs/**, and
// any other .md outside node_modules) resolves: the file or folder exists and, for a `#anchor`
// into a markdown page, that page has the heading (GitHub's slugs) or an `<a id>` of that name.
// Sections move between pages; this keeps the links that pointed at them from rotting.
// Pure: reads files only.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.data', '.test-data', '.bench-data', 'coverage']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) || e.name.startsWith('dist.') ? [] : markdownFiles(path.join(dir, e.name));
    return e.name.endsWith('.md') ? [path.join(dir, e.name)] : [];
  });
}

/** The page's text with fenced blocks blanked (line numbers kept) and inline code spans removed. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/(`+)[^`]*?\1/g, '');
  });
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingIds(text: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) ids.add(m[1]);
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const plain = h[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

interface Link { from: string; line: number; target: string }

function linksOf(file: string): Link[] {
  const from = path.relative(ROOT, file);
  const links: Link[] = [];
  proseLines(readFileSync(file, 'utf8')).forEach((line, i) => {
    // [text](target "title") and ![alt](target), then reference definitions `[id]: target`.
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ from, line: i + 1, target: m[1] });
    const ref = /^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line);
    if (ref) links.push({ from, line: i + 1, target: ref[1] });
  });
  return links;
}

/** Why a link does not resolve, or null. External links (a scheme, `//`) are not checked. */
function brokenBecause(link: Link): string | null {
  const { target } = link;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null;
  const hash = target.indexOf('#');
  const filePart = decodeURI(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const source = path.join(ROOT, link.from);
  const resolved = filePart === '' ? source : filePart.startsWith('/') ? path.join(ROOT, filePart) : path.resolve(path.dirname(source), filePart);
  if (!resolved.startsWith(ROOT)) return 'points outside the repository';
  if (!existsSync(resolved)) return `no such file: ${path.relative(ROOT, resolved)}`;
  if (anchor === null || anchor === '') return null;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return null;
  return headingIds(readFileSync(resolved, 'utf8')).has(anchor) ? null : `no heading "#${anchor}" in ${path.relative(ROOT, resolved)}`;
}

const files = markdownFiles(ROOT);

describe('markdown links', () => {
  it('finds the pages it is meant to check', () => {
    const names = files.map((f) => path.relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'bench/README.md', 'docs/ARCHITECTURE.md', 'docs/protocol/v4.md']));
  });

  it('reads GitHub heading ids', () => {
    const ids = headingIds('# A `code` title\n## 8. Where this build differs\n## Same\n## Same\n```\n# not a heading\n```\n<a id="here"></a>');
    expect([...ids]).toEqual(['a-code-title', '8-where-this-build-differs', 'same', 'same-1', 'here']);
  });

  it.each(files.map((f) => [path.relative(ROOT, f), f]))('%s: every relative link resolves', (_name, file) => {
    const broken = linksOf(file).flatMap((l) => {
      const why = brokenBecause(l);
      return why ? [`${l.from}:${l.line} (${l.target}): ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });
});

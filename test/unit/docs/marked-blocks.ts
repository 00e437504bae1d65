// Reads the marked blocks of a docs page (docs/protocol/README.md "Examples are tested"): an HTML
// comment alone on its line, `<!-- example: ID -->`, `<!-- table: ID -->` or
// `<!-- not checked: reason -->`, followed by a fenced block or a markdown table.
import { readFileSync } from 'node:fs';

export type MarkKind = 'example' | 'table' | 'not checked';

export interface MarkedBlock {
  /** `docs/protocol/v4.md:123`, the marker's line, for failure messages. */
  where: string;
  kind: MarkKind;
  /** What follows the colon: `fixture fixtures/archives/valid-small.zip device.xml`, `limits` … */
  id: string;
  /** A fenced block's text, without the fences. */
  text?: string;
  /** A table's body rows (header and separator left out), cells trimmed, `\|` read as `|`. */
  rows?: string[][];
}

export interface DocPage {
  blocks: MarkedBlock[];
  /** Fenced blocks with no marker before them: `docs/protocol/v4.md:40`. */
  unmarked: string[];
  /** Markers followed by neither a fenced block nor a table. */
  dangling: string[];
}

const MARKER = /^<!-- (example|table|not checked): (.+?) -->$/;
const FENCE = /^```/;

function cells(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\' && line[i + 1] === '|') {
      cell += '|';
      i++;
    } else if (line[i] === '|') {
      out.push(cell.trim());
      cell = '';
    } else {
      cell += line[i];
    }
  }
  out.push(cell.trim());
  // `| a | b |` splits into '', 'a', 'b', ''.
  return out.slice(1, -1);
}

export function readDocPage(path: URL, label: string): DocPage {
  const lines = readFileSync(path, 'utf8').split('\n');
  const page: DocPage = { blocks: [], unmarked: [], dangling: [] };
  let i = 0;
  while (i < lines.length) {
    const marker = MARKER.exec(lines[i]);
    if (FENCE.test(lines[i])) {
      page.unmarked.push(`${label}:${i + 1}`);
      i++;
      while (i < lines.length && !FENCE.test(lines[i])) i++;
      i++;
      continue;
    }
    if (!marker) {
      i++;
      continue;
    }
    const where = `${label}:${i + 1}`;
    const block: MarkedBlock = { where, kind: marker[1] as MarkKind, id: marker[2] };
    i++;
    while (i < lines.length && lines[i].trim() === '') i++;
    if (FENCE.test(lines[i] ?? '')) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !FENCE.test(lines[i])) body.push(lines[i++]);
      i++;
      block.text = body.join('\n');
    } else if ((lines[i] ?? '').startsWith('|')) {
      const table: string[][] = [];
      while (i < lines.length && lines[i].startsWith('|')) table.push(cells(lines[i++]));
      block.rows = table.slice(2);
    } else {
      page.dangling.push(where);
      continue;
    }
    page.blocks.push(block);
  }
  return page;
}

/** The text of every `code span` in a cell, in order. */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** The first `code span` of a cell, or the cell itself when it has none. */
export function codeOf(cell: string): string {
  return codeSpans(cell)[0] ?? cell;
}

/** `key=value` words of a marker id: `package x.zip received=2026-…` → { received: '2026-…' }. */
export function markerArgs(id: string): Record<string, string> {
  return Object.fromEntries(id.split(' ').filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
}

// What a printed PDF looks like page by page: rendered with poppler's `pdftoppm` (installed by
// tools/test-deps.sh) to greyscale images, each measured for how much of it is printed on.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PageInk {
  /** Share of the page's pixel rows with anything printed on them (0 to 1). */
  inkedRows: number;
  /** How far down the page the last printed row is (0 to 1). */
  lastInk: number;
}

/** Parses a binary greyscale PGM (P5) as pdftoppm writes it. */
function readPgm(bytes: Buffer): { width: number; height: number; pixels: Buffer } {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('not a PGM image');
  const [all, w, h] = header;
  return { width: Number(w), height: Number(h), pixels: bytes.subarray(all.length) };
}

/** Each page of the PDF, rendered at a low resolution (40 dpi: enough to see where ink is). */
export function pdfPages(pdf: Buffer, dpi = 40): PageInk[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdf-pages-'));
  try {
    fs.writeFileSync(path.join(dir, 'doc.pdf'), pdf);
    execFileSync('pdftoppm', ['-r', String(dpi), '-gray', path.join(dir, 'doc.pdf'), path.join(dir, 'page')]);
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.pgm')).sort();
    return files.map((f) => {
      const { width, height, pixels } = readPgm(fs.readFileSync(path.join(dir, f)));
      let inked = 0;
      let last = 0;
      for (let y = 0; y < height; y++) {
        const row = pixels.subarray(y * width, (y + 1) * width);
        if (row.some((v) => v < 200)) { inked++; last = y; }
      }
      return { inkedRows: inked / height, lastInk: (last + 1) / height };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The rejections of a batch (docs/protocol/v4.md §4, §5) with memory that does not grow with their
// number: a batch naming another school's users on each of its 8 million rows made its worker
// run out of memory (issue #33) holding one object per refused row, then the package's XML.
// Rejections go to the `rejections` table in chunks as they come; the import keeps their
// counts per code, and the rows themselves only while they are few (HELD_REJECTIONS): past that
// the package reads them back from the table (worker/import/assemble-package.ts).
import { deleteRejections, insertRejections, type RejectionRow } from '../../db/repositories/batch-import.js';
import type { Trx } from '../../db/database.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import type { RowRejection } from '../../shared/protocol/instruction-package.js';
import type { PackageParts } from './context.js';

/** Rejections held in memory for the package at most; beyond, it reads them from the table. */
export const HELD_REJECTIONS = 10_000;
/** Rejections written in one statement. */
export const REJECTIONS_PER_WRITE = 10_000;

/**
 * Notes rejections just stored, in their order after those noted before: `counts` per code (all
 * of them), and `rows`, the first of them in their stored order, complete when `rows.length`
 * is their number. Held for the package while the batch has at most HELD_REJECTIONS in all.
 */
export function noteRejections(out: PackageParts, counts: Readonly<Record<string, number>>, rows: readonly RowRejection[]): void {
  let total = 0;
  for (const [code, n] of Object.entries(counts)) {
    out.rejectionCounts[code] = (out.rejectionCounts[code] ?? 0) + n;
    total += n;
  }
  if (total === 0 || out.rejectionsSpilled) return;
  if (total === rows.length && out.rejections.length + total <= HELD_REJECTIONS) {
    out.rejections.push(...rows);
    return;
  }
  out.rejectionsSpilled = true;
  out.rejections = [];
}

export function countByCode(rows: readonly { code: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.code] = (counts[r.code] ?? 0) + 1;
  return counts;
}

export function asRowRejection(r: RejectionRow): RowRejection {
  return { file: r.file, line: r.line, recordId: r.recordId, code: r.code as RowRejectionCode, detail: r.detail ?? null };
}

/** Rejections of one log as the kit finds them: written REJECTIONS_PER_WRITE at a time, in their order. */
export class RejectionSpool {
  private pending: RejectionRow[] = [];
  /** Per code, those written and noted. */
  private readonly written: Record<string, number> = {};

  /** `schoolId`: the session's (its rejections' school). */
  constructor(private readonly trx: Trx, private readonly schoolId: number, private readonly sessionId: string, private readonly out: PackageParts) {}

  add(row: RejectionRow): void {
    this.pending.push(row);
  }

  get full(): boolean {
    return this.pending.length >= REJECTIONS_PER_WRITE;
  }

  /** Writes what is pending (nothing: no statement). */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    await insertRejections(this.trx, this.sessionId, rows);
    const counts = countByCode(rows);
    for (const [code, n] of Object.entries(counts)) this.written[code] = (this.written[code] ?? 0) + n;
    noteRejections(this.out, counts, rows.map(asRowRejection));
  }

  /**
   * The log turned out unreadable (docs/protocol/v4.md §4: reported as an `<error>` for the file): its
   * rejections are taken back, those written included, and none is reported.
   */
  async discard(file: string): Promise<void> {
    this.pending = [];
    if (Object.keys(this.written).length === 0) return;
    await deleteRejections(this.trx, this.schoolId, this.sessionId, file);
    for (const [code, n] of Object.entries(this.written)) {
      this.out.rejectionCounts[code] -= n;
      if (this.out.rejectionCounts[code] === 0) delete this.out.rejectionCounts[code];
      delete this.written[code];
    }
    this.out.rejections = this.out.rejections.filter((r) => r.file !== file);
  }
}

// The outbox's pure decisions: which queued rows go into the next batch, and the record ids they get.
//
// Record ids are allocated when a row first goes into a batch, not when it is queued: the batch is
// built right after reading the manifest, so the allocator starts above the server's high-water
// mark for this device (and above every mark seen before). A device whose storage was wiped, or a
// new storage enrolled with an old device's identity, therefore never reuses an id the server
// holds, and never meets `record_conflict` (docs/protocol/v4.md §4.5, §4.6). Once given, an id
// never changes: a row is the same row in every resend.
import type { StoredRow } from './types.js';

export interface BatchPlan {
  /** Rows of the batch, ids allocated, in CSV order. */
  rows: StoredRow[];
  /** Waiting rows at or below the high-water mark: the server holds them already. */
  nowStored: StoredRow[];
  /** The allocator's next id after this batch. */
  nextRecordId: number;
}

export interface PlanInput {
  rows: readonly StoredRow[];
  highWaterMark: number;
  /** The highest id this device ever learnt the server holds (manifests and packages). */
  floor: number;
  nextRecordId: number;
  maxRows: number;
  /** A RESEND_SINCE window [from, to) (manifest `resend`), when it names this log. */
  resend?: { from: string; to: string } | null;
}

export function planBatch(input: PlanInput): BatchPlan {
  const { highWaterMark: hwm } = input;
  const from = input.resend ? Date.parse(input.resend.from) : NaN;
  const to = input.resend ? Date.parse(input.resend.to) : NaN;
  const inWindow = (r: StoredRow) => input.resend != null && r.recordId !== null && Date.parse(r.at) >= from && Date.parse(r.at) < to;
  const nowStored: StoredRow[] = [];
  const resend: StoredRow[] = [];
  const numbered: StoredRow[] = [];
  const fresh: StoredRow[] = [];
  for (const row of input.rows) {
    if (row.state === 'refused') continue;
    if (row.recordId === null) fresh.push(row);
    else if (row.recordId > hwm) numbered.push(row);
    else if (inWindow(row)) resend.push(row);
    else if (row.state === 'waiting') nowStored.push({ ...row, state: 'stored' });
  }
  numbered.sort((a, b) => a.recordId! - b.recordId!);
  resend.sort((a, b) => a.recordId! - b.recordId!);
  fresh.sort((a, b) => (a.key ?? 0) - (b.key ?? 0));
  let next = Math.max(input.nextRecordId, hwm + 1, input.floor + 1, 1);
  const picked = [...resend, ...numbered, ...fresh].slice(0, Math.max(1, input.maxRows)).map((row) => {
    if (row.recordId !== null) return row;
    return { ...row, recordId: next++ };
  });
  return { rows: picked, nowStored, nextRecordId: next };
}

/** Server clock minus device clock, from a manifest's `server_time` and the request's round trip. */
export function clockOffsetMs(serverTime: string, sentAt: number, receivedAt: number): number | null {
  const server = Date.parse(serverTime);
  if (!Number.isFinite(server)) return null;
  return Math.round(server - (sentAt + receivedAt) / 2);
}

// Set-based writes of an imported batch: one statement per chunk of rows, never a statement per
// row (attendances.csv itself goes through staged-attendances.ts).
import { sql } from 'kysely';
import type { Trx } from '../database.js';
import type { RowRejectionCode } from '../../shared/protocol/codes.js';
import type { RowRejection } from '../../shared/protocol/instruction-package.js';

/** Which of `ids` are users of the school (deactivated users included: history is kept). */
export async function usersOfSchool(trx: Trx, schoolId: number, ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await sql<{ id: number }>`SELECT id FROM users WHERE school_id = ${schoolId} AND id = ANY(${[...ids]}::bigint[])`.execute(trx);
  return new Set(rows.rows.map((r) => Number(r.id)));
}

export interface RejectionRow {
  file: string;
  line: number;
  recordId: number | null;
  code: string;
  /** What is wrong (docs/protocol/v4.md §4.5). */
  detail?: string | null;
}

export async function insertRejections(trx: Trx, sessionId: string, rows: readonly RejectionRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await sql`
      INSERT INTO rejections (session_id, school_id, file, line, record_id, code, detail)
      SELECT ${sessionId}::uuid,
        -- The session's school: a PUSH session's own, a v4 one's device's.
        (SELECT coalesce(s.school_id, d.school_id) FROM sync_sessions s JOIN devices d ON d.id = s.device_id WHERE s.id = ${sessionId}::uuid),
        f, l, r, c, d FROM unnest(${chunk.map((r) => r.file)}::text[], ${chunk.map((r) => r.line)}::int[],
        ${chunk.map((r) => (r.recordId === null ? null : String(r.recordId)))}::text[], ${chunk.map((r) => r.code)}::text[],
        ${chunk.map((r) => r.detail ?? null)}::text[]) AS t(f, l, r, c, d)
    `.execute(trx);
  }
}

/** The rejections of one file of a session taken back (the file turned out unreadable). `schoolId`: the session's. */
export async function deleteRejections(trx: Trx, schoolId: number, sessionId: string, file: string): Promise<void> {
  await sql`DELETE FROM rejections WHERE school_id = ${schoolId} AND session_id = ${sessionId}::uuid AND file = ${file}`.execute(trx);
}

/** A session's rejections in their stored order, `pageSize` at a time (keyset on id): the package of a batch that refused many rows is written from them. */
export async function* sessionRejectionPages(trx: Trx, schoolId: number, sessionId: string, pageSize: number): AsyncGenerator<RowRejection[]> {
  let after = 0;
  for (;;) {
    const rows = await sql<{ id: number | string; file: string; line: number; record_id: string | null; code: string; detail: string | null }>`
      SELECT id, file, line, record_id, code, detail FROM rejections
      WHERE school_id = ${schoolId} AND session_id = ${sessionId}::uuid AND id > ${after}::bigint ORDER BY id LIMIT ${pageSize}::int`.execute(trx);
    if (rows.rows.length === 0) return;
    after = Number(rows.rows[rows.rows.length - 1].id);
    yield rows.rows.map((r) => ({ file: r.file, line: r.line, recordId: r.record_id === null ? null : Number(r.record_id), code: r.code as RowRejectionCode, detail: r.detail }));
    if (rows.rows.length < pageSize) return;
  }
}

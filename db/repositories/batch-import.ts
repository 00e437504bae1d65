// Set-based writes of an imported batch: one statement per chunk of rows, never a statement per
// row (attendances.csv itself goes through staged-attendances.ts).
import { sql } from 'kysely';
import type { Trx } from '../database.js';

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
}

export async function insertRejections(trx: Trx, sessionId: string, rows: readonly RejectionRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await sql`
      INSERT INTO rejections (session_id, file, line, record_id, code)
      SELECT ${sessionId}::uuid, f, l, r, c FROM unnest(${chunk.map((r) => r.file)}::text[], ${chunk.map((r) => r.line)}::int[],
        ${chunk.map((r) => (r.recordId === null ? null : String(r.recordId)))}::text[], ${chunk.map((r) => r.code)}::text[]) AS t(f, l, r, c)
    `.execute(trx);
  }
}

export async function insertFeverEvents(
  trx: Trx,
  events: ReadonlyArray<{ schoolId: number; userId: number | null; deviceId: string; attendanceId: number | null; source: string; recordId: number; temperature: number; occurredAt: Date }>,
): Promise<void> {
  if (events.length === 0) return;
  await sql`
    INSERT INTO fever_events (school_id, user_id, device_id, attendance_id, source, record_id, temperature, occurred_at)
    SELECT s, u, d, a, src, r, t, o FROM unnest(${events.map((e) => e.schoolId)}::bigint[], ${events.map((e) => e.userId)}::bigint[],
      ${events.map((e) => e.deviceId)}::uuid[], ${events.map((e) => e.attendanceId)}::bigint[], ${events.map((e) => e.source)}::text[],
      ${events.map((e) => e.recordId)}::bigint[], ${events.map((e) => e.temperature)}::numeric[], ${events.map((e) => e.occurredAt)}::timestamptz[])
      AS x(s, u, d, a, src, r, t, o)
  `.execute(trx);
}

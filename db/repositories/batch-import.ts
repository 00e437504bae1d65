// Set-based writes of an imported batch: one statement per chunk of rows, duplicates skipped
// by the (device_id, record_id) unique index, never a statement per row.
import { sql } from 'kysely';
import type { AttendanceRow } from '../../shared/csv/attendance-row.js';
import type { Trx } from '../database.js';

/** A validated attendances.csv row. */
export type BatchAttendance = AttendanceRow;

export interface InsertedAttendance {
  id: number;
  record_id: number;
}

/** Which of `ids` are users of the school (deactivated users included: history is kept). */
export async function usersOfSchool(trx: Trx, schoolId: number, ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await sql<{ id: number }>`SELECT id FROM users WHERE school_id = ${schoolId} AND id = ANY(${[...ids]}::bigint[])`.execute(trx);
  return new Set(rows.rows.map((r) => Number(r.id)));
}

/** Rows with distinct record ids; answers the ids of those inserted (a record id the device already holds is skipped). */
export async function insertAttendances(
  trx: Trx,
  target: { schoolId: number; deviceId: string; sessionId: string; clockSuspect: boolean },
  rows: readonly BatchAttendance[],
): Promise<InsertedAttendance[]> {
  if (rows.length === 0) return [];
  // Instants as ISO text: node-postgres formats a Date in JavaScript, several times slower.
  const result = await sql<InsertedAttendance>`
    INSERT INTO attendances (school_id, user_id, device_id, record_id, type, occurred_at, temperature, photo, session_id, clock_suspect)
    SELECT ${target.schoolId}, t.user_id, ${target.deviceId}::uuid, t.record_id, t.type, t.occurred_at, t.temperature, t.photo, ${target.sessionId}::uuid, ${target.clockSuspect}
    FROM unnest(${rows.map((r) => r.recordId)}::bigint[], ${rows.map((r) => r.userId)}::bigint[], ${rows.map((r) => r.type)}::text[],
                ${rows.map((r) => r.occurredAt.toISOString())}::timestamptz[], ${rows.map((r) => r.temperature)}::numeric[], ${rows.map((r) => r.photo)}::text[])
         AS t(record_id, user_id, type, occurred_at, temperature, photo)
    ON CONFLICT (device_id, record_id) DO NOTHING
    RETURNING id, record_id
  `.execute(trx);
  return result.rows;
}

export interface StoredRecord {
  user_id: number;
  type: string;
  occurred_at: Date;
}

export async function storedRecords(trx: Trx, deviceId: string, recordIds: readonly number[]): Promise<Map<number, StoredRecord>> {
  if (recordIds.length === 0) return new Map();
  const rows = await sql<StoredRecord & { record_id: number }>`
    SELECT record_id, user_id, type, occurred_at FROM attendances WHERE device_id = ${deviceId}::uuid AND record_id = ANY(${[...recordIds]}::bigint[])
  `.execute(trx);
  return new Map(rows.rows.map((r) => [Number(r.record_id), r]));
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

// The highest record_id the server holds per device and CSV log.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';

export async function readHighWaterMarks(db: DbOrTrx, schoolId: number, deviceId: string, files: readonly string[]): Promise<Record<string, number>> {
  const marks: Record<string, number> = Object.fromEntries(files.map((f) => [f, 0]));
  if (files.length === 0) return marks;
  const rows = await db.selectFrom('high_water_marks').select(['file', 'record_id']).where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('file', 'in', [...files]).execute();
  for (const row of rows) marks[row.file] = row.record_id;
  return marks;
}

/** Raises the mark, never lowers it; returns the mark after the update. */
export async function raiseHighWaterMark(trx: Trx, schoolId: number, deviceId: string, file: string, recordId: number): Promise<number> {
  const row = await sql<{ record_id: number }>`
    INSERT INTO high_water_marks AS h (school_id, device_id, file, record_id) VALUES (${schoolId}, ${deviceId}, ${file}, ${recordId})
    ON CONFLICT (device_id, file, school_id) DO UPDATE SET record_id = greatest(h.record_id, EXCLUDED.record_id), updated_at = now()
    RETURNING record_id
  `.execute(trx);
  return Number(row.rows[0].record_id);
}

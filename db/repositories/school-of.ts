// Which school a row belongs to, by its id alone: for a caller not limited to one school (back
// office) who names a device, a pupil, a session… by id. It is the one lookup of such a request
// that reads every school; everything after it names the school it answers
// (docs/scaling-schema.md; listed in CROSS_SCHOOL, test/support/statement-check.ts).
// A school admin never needs it: their school is their scope.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export type RowWithSchool = 'devices' | 'users' | 'attendances' | 'sync_sessions' | 'figure_rebuilds';

export async function schoolOfRow(db: DbOrTrx, table: RowWithSchool, id: string | number): Promise<number | undefined> {
  // A session is seen by the staff of its device's school now (a PUSH terminal may have moved since).
  const row = table === 'sync_sessions'
    ? await sql<{ school_id: number }>`SELECT d.school_id FROM sync_sessions se JOIN devices d ON d.id = se.device_id WHERE se.id = ${id} LIMIT 1`.execute(db)
    : await sql<{ school_id: number }>`SELECT school_id FROM ${sql.table(table)} WHERE id = ${id} LIMIT 1`.execute(db);
  return row.rows[0] === undefined ? undefined : Number(row.rows[0].school_id);
}

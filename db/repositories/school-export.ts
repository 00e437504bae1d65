// A school's data, every table that holds it (docs/DATA-PROTECTION.md "Export"): read in one
// snapshot for `npm run admin -- export-school`. Table-driven: a new table of a school's data is
// one more line here (the marks table: `marks: sql\`SELECT m.* FROM marks m WHERE m.school_id = ${'${id}'}\``).
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx } from '../database.js';

export const EXPORT_TABLES: Readonly<Record<string, (schoolId: number) => RawBuilder<Record<string, unknown>>>> = {
  schools: (id) => sql`SELECT id, name, timezone, school_days, day_end, fever_threshold, created_at, updated_at FROM schools WHERE id = ${id}`,
  school_retention: (id) => sql`SELECT * FROM school_retention WHERE school_id = ${id}`,
  users: (id) => sql`SELECT id, name, badge, enrolled_on, deleted_at, created_at, updated_at FROM users WHERE school_id = ${id} ORDER BY id`,
  erasures: (id) => sql`SELECT user_id, erased_at FROM erasures WHERE school_id = ${id} ORDER BY user_id`,
  staff: (id) => sql`SELECT id, email, role, created_at FROM staff WHERE school_id = ${id} ORDER BY id`,
  devices: (id) => sql`SELECT id, name, kind, protocol, serial_number, disabled_at, created_at FROM devices WHERE school_id = ${id} ORDER BY id`,
  attendances: (id) => sql`SELECT id, user_id, device_id, record_id, type, occurred_at, temperature, photo, created_at FROM attendances WHERE school_id = ${id} ORDER BY id`,
  user_days: (id) => sql`SELECT user_id, date, seconds, first_checkin_at, last_event_at, last_event_type, open_since, anomalies FROM user_days WHERE school_id = ${id} ORDER BY user_id, date`,
  fever_events: (id) => sql`SELECT id, user_id, device_id, temperature, occurred_at FROM fever_events WHERE school_id = ${id} ORDER BY id`,
  readings: (id) => sql`SELECT id, user_id, device_id, record_id, measured_at, temperature, sensor FROM readings WHERE school_id = ${id} ORDER BY id`,
  device_messages: (id) => sql`SELECT id, device_id, record_id, kind, body, created_at FROM device_messages WHERE school_id = ${id} ORDER BY id`,
  messages: (id) => sql`SELECT id, device_id, body, priority, expires_at, created_at FROM messages WHERE school_id = ${id} ORDER BY id`,
  calendar_entries: (id) => sql`SELECT e.* FROM calendar_entries e WHERE e.school_id = ${id} ORDER BY e.id`,
  held_punches: (id) => sql`SELECT id, device_id, pin, occurred_at, type FROM held_punches WHERE school_id = ${id} ORDER BY id`,
  device_photos: (id) => sql`SELECT dp.device_id, dp.name, dp.sha256 FROM device_photos dp JOIN devices d ON d.id = dp.device_id WHERE d.school_id = ${id} ORDER BY dp.device_id, dp.name`,
};

export interface SchoolData {
  tables: Record<string, Array<Record<string, unknown>>>;
  photos: Array<{ sha256: string; content_type: string; data: Buffer }>;
}

/** Every table's rows of the school (in the caller's transaction: make it repeatable read for one snapshot); null when there is no such school. */
export async function readSchoolData(trx: DbOrTrx, schoolId: number): Promise<SchoolData | null> {
  const tables: SchoolData['tables'] = {};
  for (const [name, query] of Object.entries(EXPORT_TABLES)) tables[name] = (await query(schoolId).execute(trx)).rows;
  if (tables.schools.length === 0) return null;
  const photos = (await sql<{ sha256: string; content_type: string; data: Buffer }>`
    SELECT DISTINCT ph.sha256, ph.content_type, ph.data FROM photos ph
    JOIN device_photos dp ON dp.sha256 = ph.sha256 JOIN devices d ON d.id = dp.device_id WHERE d.school_id = ${schoolId}`.execute(trx)).rows;
  return { tables, photos };
}

// Retention (docs/DATA-PROTECTION.md): what holds personal data beyond the figures is kept for a
// number of days per school (school_retention; null: the defaults RETENTION_* / ARCHIVE_RETENTION_DAYS),
// then dropped by the worker's nightly job. Never touched: attendances' times and types,
// user_days (the figures), high_water_marks and the (device, record id) and (terminal, PIN,
// time) keys that make a resend idempotent — so a pruned archive or package never lets a
// device's resent rows be stored twice.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export interface RetentionDefaults { archiveDays: number; packageDays: number; photoDays: number; temperatureDays: number }
export interface SchoolRetention { archive_days: number | null; package_days: number | null; photo_days: number | null; temperature_days: number | null }

/** Each school's retention joined in: `days(column, default)` is its own or the default. */
const days = (column: 'archive_days' | 'package_days' | 'photo_days' | 'temperature_days', fallback: number, school = sql`d.school_id`) =>
  sql`make_interval(days => coalesce((SELECT r.${sql.ref(column)} FROM school_retention r WHERE r.school_id = ${school}), ${fallback}::int))`;

export async function pruneRetention(db: DbOrTrx, defaults: RetentionDefaults): Promise<Record<string, number>> {
  const n = (r: { numAffectedRows?: bigint }) => Number(r.numAffectedRows ?? 0);
  const archives = await sql`
    UPDATE sync_sessions s SET archive = NULL FROM devices d
    WHERE d.id = s.device_id AND s.archive IS NOT NULL AND s.processed_at IS NOT NULL
      AND s.received_at < now() - ${days('archive_days', defaults.archiveDays)}`.execute(db);
  const packages = await sql`
    UPDATE sync_sessions s SET package = NULL FROM devices d
    WHERE d.id = s.device_id AND s.package IS NOT NULL AND s.acked_at IS NOT NULL
      AND s.acked_at < now() - ${days('package_days', defaults.packageDays)}`.execute(db);
  // Photos: the device's index entries of old check-ins, the check-ins' references, then photos nothing refers to.
  const photoIndex = await sql`
    DELETE FROM device_photos dp USING attendances a, devices d
    WHERE d.id = a.device_id AND a.photo IS NOT NULL AND dp.device_id = a.device_id AND dp.name = a.photo
      AND a.occurred_at < now() - ${days('photo_days', defaults.photoDays)}`.execute(db);
  const photoRefs = await sql`
    UPDATE attendances a SET photo = NULL FROM devices d
    WHERE d.id = a.device_id AND a.photo IS NOT NULL AND a.occurred_at < now() - ${days('photo_days', defaults.photoDays)}`.execute(db);
  const photos = await sql`DELETE FROM photos ph WHERE NOT EXISTS (SELECT 1 FROM device_photos dp WHERE dp.sha256 = ph.sha256)`.execute(db);
  // Temperatures: on check-ins, readings, fever alerts (with their deliveries).
  const temperatures = await sql`
    UPDATE attendances a SET temperature = NULL
    WHERE a.temperature IS NOT NULL AND a.occurred_at < now() - ${days('temperature_days', defaults.temperatureDays, sql`a.school_id`)}`.execute(db);
  const readings = await sql`
    DELETE FROM readings x
    WHERE x.measured_at < now() - ${days('temperature_days', defaults.temperatureDays, sql`x.school_id`)}`.execute(db);
  await sql`
    DELETE FROM alert_deliveries ad USING fever_events f
    WHERE f.id = ad.fever_event_id AND f.occurred_at < now() - ${days('temperature_days', defaults.temperatureDays, sql`f.school_id`)}`.execute(db);
  const fevers = await sql`
    DELETE FROM fever_events f
    WHERE f.occurred_at < now() - ${days('temperature_days', defaults.temperatureDays, sql`f.school_id`)}`.execute(db);
  return {
    archives: n(archives), packages: n(packages), photos: n(photos), photo_refs: n(photoRefs) + n(photoIndex),
    temperatures: n(temperatures), readings: n(readings), fever_events: n(fevers),
  };
}

export async function setSchoolRetention(db: DbOrTrx, schoolId: number, retention: Partial<SchoolRetention>): Promise<void> {
  const r = { archive_days: null, package_days: null, photo_days: null, temperature_days: null, ...retention };
  await sql`
    INSERT INTO school_retention (school_id, archive_days, package_days, photo_days, temperature_days)
    VALUES (${schoolId}, ${r.archive_days}, ${r.package_days}, ${r.photo_days}, ${r.temperature_days})
    ON CONFLICT (school_id) DO UPDATE SET archive_days = excluded.archive_days, package_days = excluded.package_days,
      photo_days = excluded.photo_days, temperature_days = excluded.temperature_days, updated_at = now()`.execute(db);
}

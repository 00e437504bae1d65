// Data protection (docs/DATA-PROTECTION.md): erasing a pupil leaves no name, badge, photo or
// temperature of theirs in any table or package, while the school's figures stay as they were;
// a resend of their rows afterwards is not stored twice; the school's export reads back.
import { beforeAll, describe, expect, test } from '@jest/globals';
import AdmZip from 'adm-zip';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { EXPORT_FORMAT, runAdmin } from '../../bin/admin.js';
import { VERSION } from '../../shared/version.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aSchool, aUser } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
const NAME = 'Zoé Erasable-Qx7';
const BADGE = 'BADGE-ERASE-91';
let school: Awaited<ReturnType<typeof aSchool>>;
let pupil: Awaited<ReturnType<typeof aUser>>;
let other: Awaited<ReturnType<typeof aUser>>;
let device: TestDevice;
let rows: CsvAttendance[];

const figures = async () => (await sql<Record<string, unknown>>`
  SELECT user_id, date::text, seconds, first_checkin_at, last_event_at, anomalies FROM user_days WHERE school_id = ${school.id} ORDER BY user_id, date`.execute(suite.db)).rows;
const punches = async () => (await sql<Record<string, unknown>>`
  SELECT id, user_id, device_id, record_id, type, occurred_at FROM attendances WHERE school_id = ${school.id} ORDER BY id`.execute(suite.db)).rows;

beforeAll(async () => {
  school = await aSchool(suite.db);
  pupil = await aUser(suite.db, school.id, { name: NAME, badge: BADGE });
  other = await aUser(suite.db, school.id);
  const d = await aDevice(suite.db, school.id);
  device = await new TestDevice(suite.url, d).signIn();
  const t = Date.now() - 3 * 3_600_000;
  const at = (minutes: number) => new Date(t + minutes * 60_000).toISOString();
  rows = [
    { record_id: 1, user_id: pupil.id, type: 'checkin', occurred_at: at(0), temperature: '38.4' },
    { record_id: 2, user_id: other.id, type: 'checkin', occurred_at: at(1), temperature: '36.6' },
    { record_id: 3, user_id: pupil.id, type: 'checkout', occurred_at: at(90) },
    { record_id: 4, user_id: other.id, type: 'checkout', occurred_at: at(95) },
  ];
  await device.sync(batchZip({ 'device.xml': deviceXml({ rosterVersion: 0 }), 'attendances.csv': attendancesCsv(rows) }));
  // Her check-in photo, and a PUSH terminal's user list naming her, as the photo and PUSH channels store them.
  const jpeg = Buffer.from(`a photo of ${NAME}`);
  const sha = createHash('sha256').update(jpeg).digest('hex');
  await sql`INSERT INTO photos (sha256, content_type, width, height, bytes, data) VALUES (${sha}, 'image/jpeg', 1, 1, ${jpeg.length}, ${jpeg})`.execute(suite.db);
  await sql`INSERT INTO device_photos (school_id, device_id, name, sha256) VALUES (${d.school_id}, ${d.id}, 'p1.jpg', ${sha})`.execute(suite.db);
  await sql`UPDATE attendances SET photo = 'p1.jpg' WHERE device_id = ${d.id} AND record_id = 1`.execute(suite.db);
  await sql`INSERT INTO push_terminal_users (school_id, device_id, pin, name) VALUES (${d.school_id}, ${d.id}, ${BADGE}, ${NAME})`.execute(suite.db).catch(() => undefined);
  // A PUSH punch of hers: its PIN is her badge, in the row and in its dedup key (attendance_push_keys).
  await sql`WITH k AS (INSERT INTO attendance_push_keys (school_id, device_id, pin, local_time) VALUES (${school.id}, ${d.id}, ${BADGE}, '2026-11-02 08:00:00') RETURNING *)
            INSERT INTO attendances (school_id, user_id, device_id, type, occurred_at, pin, local_time)
            SELECT school_id, ${pupil.id}, device_id, 'checkin', '2026-11-02T08:00:00Z', pin, local_time FROM k`.execute(suite.db);
  // The staff audit of her enrolment, as POST /api/users writes it (her name and badge in its details).
  await sql`INSERT INTO staff_audit (staff_email, school_id, action, subject, subject_id, details)
            VALUES ('office@example.test', ${school.id}, 'user.create', 'user', ${pupil.id}, ${JSON.stringify({ name: NAME, badge: BADGE })}::jsonb)`.execute(suite.db);
});

/** Every place a value could hide: each table's rows as text, and every archive and package unzipped. */
async function findAnywhere(needles: string[]): Promise<string[]> {
  const found: string[] = [];
  const tables = (await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`.execute(suite.db)).rows;
  for (const { name } of tables) {
    for (const needle of needles) {
      const { rows: hits } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(name)} t WHERE t::text ILIKE ${`%${needle}%`}`.execute(suite.db);
      if (hits[0].n > 0) found.push(`${name}: ${needle}`);
    }
  }
  // Binary columns as they are (photos), besides the zips read below.
  const binary = (await sql<{ t: string; c: string }>`
    SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'bytea'`.execute(suite.db)).rows;
  for (const { t, c } of binary) {
    for (const needle of needles) {
      const { rows: hits } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(t)} WHERE position(convert_to(${needle}, 'UTF8') IN ${sql.ref(c)}) > 0`.execute(suite.db);
      if (hits[0].n > 0) found.push(`${t}.${c}: ${needle}`);
    }
  }
  const blobs = (await sql<{ id: string; archive: Buffer | null; package: Buffer | null }>`SELECT id, archive, package FROM sync_sessions`.execute(suite.db)).rows;
  for (const s of blobs) {
    for (const [kind, blob] of [['archive', s.archive], ['package', s.package]] as const) {
      if (!blob) continue;
      for (const entry of new AdmZip(blob).getEntries()) {
        const text = entry.getData().toString('utf8');
        for (const needle of needles) if (text.includes(needle)) found.push(`sync_sessions.${kind} ${s.id} ${entry.entryName}: ${needle}`);
      }
    }
  }
  return found;
}

describe('erasing a pupil', () => {
  test('no name, badge, photo or temperature of hers anywhere; the figures and the other pupil unchanged; a resend not stored twice', async () => {
    // Before: she is everywhere (the package carries the roster, the archive her temperature).
    expect(await findAnywhere([NAME, BADGE])).toEqual(expect.arrayContaining([expect.stringMatching(/^users: /), expect.stringMatching(/^sync_sessions\.package /)]));
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM fever_events WHERE user_id = ${pupil.id}`.execute(suite.db)).rows[0].n).toBe(1);
    const figuresBefore = await figures();
    const punchesBefore = await punches();
    expect(figuresBefore.length).toBeGreaterThan(0);

    const erased = await runAdmin(['erase-user', '--user', String(pupil.id), '--by', 'dpo@example.test'], suite.databaseUrl);
    expect(erased.code).toBe(0);
    expect(erased.out).toMatch(new RegExp(`^user ${pupil.id} erased \\(`));

    expect(await findAnywhere([NAME, BADGE, 'a photo of'])).toEqual([]);
    const hers = await sql<{ temperature: unknown; photo: unknown; pin: unknown }>`SELECT temperature, photo, pin FROM attendances WHERE user_id = ${pupil.id} ORDER BY pin NULLS FIRST`.execute(suite.db);
    expect(hers.rows).toEqual([{ temperature: null, photo: null, pin: null }, { temperature: null, photo: null, pin: null }, { temperature: null, photo: null, pin: expect.stringMatching(/^erased-\d+$/) }]);
    for (const table of ['fever_events', 'readings']) {
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE user_id = ${pupil.id}`.execute(suite.db)).rows[0].n).toBe(0);
    }
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM photos`.execute(suite.db)).rows[0].n).toBe(0);
    // The user row stays (never deleted), saying nothing; the other pupil keeps his temperature.
    const row = await suite.db.selectFrom('users').select(['name', 'badge', 'deleted_at']).where('id', '=', pupil.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ name: `Erased pupil ${pupil.id}`, badge: `erased-${pupil.id}` });
    expect(row.deleted_at).not.toBeNull();
    expect((await sql<{ t: string }>`SELECT temperature::text AS t FROM attendances WHERE user_id = ${other.id} AND temperature IS NOT NULL`.execute(suite.db)).rows).toEqual([{ t: '36.6' }]);
    expect(await figures()).toEqual(figuresBefore);
    expect(await punches()).toEqual(punchesBefore);

    // The device sends the same rows again (a RESEND_SINCE, a lost acknowledgement): nothing is stored twice.
    await device.sync(batchZip({ 'device.xml': deviceXml({ rosterVersion: 0 }), 'attendances.csv': attendancesCsv(rows) }));
    expect(await punches()).toEqual(punchesBefore);
    expect(await figures()).toEqual(figuresBefore);
    const audit = (await sql<{ command: string; operator: string }>`SELECT command, operator FROM admin_actions`.execute(suite.db)).rows;
    expect(audit).toContainEqual({ command: 'erase-user', operator: 'dpo@example.test' });
  });
});

describe("a school's export", () => {
  test('one zip: a manifest, one JSON-lines file per table, the photos; it reads back to what the database holds', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-export-')), 'school.zip');
    const done = await runAdmin(['export-school', '--school', String(school.id), '--out', out], suite.databaseUrl);
    expect(done).toEqual({ code: 0, out: `school ${school.id} exported to ${out}` });
    const zip = new AdmZip(out);
    const read = (name: string) => zip.readAsText(name).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const manifest = JSON.parse(zip.readAsText('manifest.json')) as Record<string, any>;
    expect(manifest).toMatchObject({ format: EXPORT_FORMAT, format_version: 1, product_version: VERSION, school_id: school.id });
    expect(read('schools.jsonl')).toEqual([expect.objectContaining({ id: school.id, name: school.name })]);
    expect(read('users.jsonl').map((u) => u.id)).toEqual([pupil.id, other.id]);
    expect(read('attendances.jsonl').map((a) => [a.user_id, a.record_id, a.type])).toEqual((await punches()).map((p) => [p.user_id, p.record_id, p.type]));
    expect(read('user_days.jsonl')).toHaveLength((await figures()).length);
    for (const [table, count] of Object.entries(manifest.rows as Record<string, number>)) {
      if (table !== 'photos') expect(read(`${table}.jsonl`)).toHaveLength(count);
    }
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});

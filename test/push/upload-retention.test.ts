// PUSH uploads of other tables (push_uploads) are kept for staff to read, then deleted
// PUSH_UPLOAD_RETENTION_DAYS after they arrived by the daily prune job (worker/jobs/index.ts).
import { expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { prunePushUploads } from '../../db/repositories/sweep.js';
import { aDevice, aSchool } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();

test('uploads older than the retention are deleted, newer ones kept', async () => {
  const device = await aDevice(suite.db, (await aSchool(suite.db)).id);
  const upload = (table: string, daysAgo: number) => sql`
    INSERT INTO push_uploads (school_id, device_id, table_name, body, body_bytes, body_sha256, received_at)
    VALUES (${device.school_id}, ${device.id}::uuid, ${table}, ${Buffer.from(table)}, ${table.length}, ${table}, now() - make_interval(days => ${daysAgo}))`.execute(suite.db);
  await upload('options-old', 31);
  await upload('options-edge', 29);
  await upload('options-new', 0);
  expect(await prunePushUploads(suite.db, 30)).toBe(1);
  const left = await suite.db.selectFrom('push_uploads').select('table_name').where('device_id', '=', device.id).orderBy('id').execute();
  expect(left.map((r) => r.table_name)).toEqual(['options-edge', 'options-new']);
  expect(await prunePushUploads(suite.db, 30)).toBe(0);
});

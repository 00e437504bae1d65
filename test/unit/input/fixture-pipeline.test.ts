// The fixtures read the way the worker will read them: archive → entry → CSV rows → row checks.
import { describe, expect, it } from '@jest/globals';
import { inspectArchive } from '../../../shared/archive/inspect-archive.js';
import { ATTENDANCE_COLUMNS, validateAttendanceRow } from '../../../shared/csv/attendance-row.js';
import { readCsvLog } from '../../../shared/csv/read-csv-log.js';
import { CHANNEL_UPLOADS } from '../../../channels/registry.js';
import { parseDeviceXml } from '../../../shared/xml/device-xml.js';
import { parseSettingsXml } from '../../../shared/xml/settings-xml.js';
import { TEST_LIMITS, fixture } from './helpers.js';

const receivedAt = new Date('2026-11-23T00:00:00Z');

async function outcomes(file: string): Promise<Map<number, string>> {
  const contents = inspectArchive(fixture(file), { channel: CHANNEL_UPLOADS.synchro, required: ['device.xml'], limits: TEST_LIMITS });
  const out = new Map<number, string>();
  for await (const row of readCsvLog(contents.read('attendances.csv'), { ...ATTENDANCE_COLUMNS })) {
    if (row.malformed) {
      out.set(row.line, 'malformed_row');
      continue;
    }
    const result = validateAttendanceRow(row.fields, { receivedAt });
    out.set(row.line, result.ok ? `ok ${result.row.recordId}` : result.code);
  }
  return out;
}

describe('fixtures through the input pipeline', () => {
  it('valid-small.zip: device.xml reads and all 10 rows pass, users 1–5', async () => {
    const contents = inspectArchive(fixture('valid-small.zip'), { channel: CHANNEL_UPLOADS.synchro, required: ['device.xml'], limits: TEST_LIMITS });
    expect(parseDeviceXml(contents.read('device.xml')).rosterVersion).toBe(41);
    const result = await outcomes('valid-small.zip');
    expect([...result.values()]).toEqual(Array.from({ length: 10 }, (_, i) => `ok ${i + 1}`));
    expect([...result.keys()]).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
  });

  it('valid-with-settings.zip: settings.xml reads', () => {
    const contents = inspectArchive(fixture('valid-with-settings.zip'), { channel: CHANNEL_UPLOADS.synchro, required: ['device.xml'], limits: TEST_LIMITS });
    expect(parseSettingsXml(contents.read('settings.xml')).sync_interval_seconds).toBe('300');
  });

  it('bad-row-codes.zip: each line gets the code fixtures/README.md lists (database-decided codes aside)', async () => {
    expect(Object.fromEntries(await outcomes('bad-row-codes.zip'))).toEqual({
      2: 'ok 101',
      3: 'malformed_row',
      4: 'invalid_record_id',
      5: 'ok 103', // unknown_user once the database finds no user 999999
      6: 'unknown_user',
      7: 'invalid_type',
      8: 'invalid_timestamp',
      9: 'invalid_timestamp',
      10: 'in_future',
      11: 'temperature_out_of_range',
      12: 'ok 110',
      13: 'ok 110', // record_conflict with line 12, decided by the import
      14: 'ok 101', // duplicate of line 2, decided by the import
      15: 'malformed_row',
      16: 'ok 112',
    });
  });

  it('crlf-bom-quoted.zip: BOM, CRLF, quotes, shuffled and unknown columns read on the right lines', async () => {
    expect(Object.fromEntries(await outcomes('crlf-bom-quoted.zip'))).toEqual({ 2: 'ok 201', 3: 'ok 202', 5: 'ok 203', 6: 'ok 204' });
  });
});

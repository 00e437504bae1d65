// The sondes channel (docs/protocol/v4.md §7): readings.csv through the whole protocol, with the row rules,
// high-water mark and deduplication of attendances.csv, and fever alerts both in the package and
// through GET /api/alerts.
import { expect, test } from '@jest/globals';
import { batchZip, deviceXml, TestDevice, type Package } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { minutesAgo, readingsCsv } from './helpers.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });

async function aProbe() {
  const school = await aSchool(suite.db, { fever_threshold: 37.5 });
  const user = await aUser(suite.db, school.id);
  const device = await aDevice(suite.db, school.id);
  const probe = await new TestDevice(suite.url, device, 'sondes').signIn();
  return { school, user, probe };
}

function expectConservation(pkg: Package): void {
  for (const imp of pkg.all('import')) {
    expect(Number(imp.received)).toBe(Number(imp.accepted) + Number(imp.duplicates) + Number(imp.rejected));
  }
}

test('a batch of readings: imported, fever readings alerted in the package and visible to the school admin', async () => {
  const { school, user, probe } = await aProbe();
  const manifest = await probe.manifest();
  expect(manifest.body).toMatchObject({ files: [{ name: 'device.xml', required: true }], high_water_marks: { 'readings.csv': 0 } });

  const at = minutesAgo(1);
  const csv = readingsCsv([
    { record_id: 1, measured_at: at, temperature: '36.6', user_id: user.id, sensor: 'gate-1' },
    { record_id: 2, measured_at: at, temperature: '38.4', user_id: user.id, sensor: 'gate-1' },
    { record_id: 3, measured_at: at, temperature: '39.1' }, // not identified: still a fever alert
    { record_id: 4, measured_at: at, temperature: '37.5', sensor: 'gate-2' }, // at the threshold counts
  ]);
  const { pkg } = await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': csv }));
  expect(pkg.all('import')).toEqual([{ file: 'readings.csv', received: '4', accepted: '4', duplicates: '0', rejected: '0', high_water_mark: '4' }]);
  expect(pkg.all('alert')).toEqual([
    { kind: 'fever', record_id: '2', user_id: String(user.id), temperature: '38.4', measured_at: expect.any(String) },
    { kind: 'fever', record_id: '3', temperature: '39.1', measured_at: expect.any(String) },
    { kind: 'fever', record_id: '4', temperature: '37.5', measured_at: expect.any(String) },
  ]);
  // No roster, flags or attendances on this channel.
  expect(Object.keys(pkg.files)).toEqual(['instructions.xml']);
  expect(pkg.all('roster')).toEqual([]);

  const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  const alerts = await http(suite.url, 'GET', '/api/alerts', { token: admin });
  expect(alerts.body.items.map((a: Record<string, unknown>) => [a.source, a.temperature, a.user_id, a.device_id])).toEqual(
    expect.arrayContaining([['sondes', 38.4, user.id, probe.identity.id], ['sondes', 39.1, null, probe.identity.id], ['sondes', 37.5, null, probe.identity.id]]),
  );
  expect(alerts.body.items).toHaveLength(3);
  expect((await probe.manifest()).body.high_water_marks).toEqual({ 'readings.csv': 4 });
});

test('every row code, and duplicates vs conflicts across batches; received = accepted + duplicates + rejected', async () => {
  const { school, user, probe } = await aProbe();
  const other = await aUser(suite.db, (await aSchool(suite.db)).id);
  const at = minutesAgo(2);
  const first = readingsCsv([
    { record_id: 10, measured_at: at, temperature: '36.6', user_id: user.id },
    { record_id: 11, measured_at: at, temperature: '36.8' },
  ]);
  await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': first }));

  const future = new Date(Date.now() + 3_600_000).toISOString();
  const second = `${readingsCsv([
    { record_id: 10, measured_at: at, temperature: '36.6', user_id: user.id }, // line 2: duplicate
    { record_id: 11, measured_at: at, temperature: '39.0' }, // line 3: record_conflict
    { record_id: 'x', measured_at: at, temperature: '36.6' }, // line 4: invalid_record_id
    { record_id: 13, measured_at: at, temperature: '36.6', user_id: other.id }, // line 5: unknown_user (another school)
    { record_id: 14, measured_at: 'yesterday', temperature: '36.6' }, // line 6: invalid_timestamp
    { record_id: 15, measured_at: future, temperature: '36.6' }, // line 7: in_future
    { record_id: 16, measured_at: at, temperature: '' }, // line 8: temperature required
    { record_id: 17, measured_at: at, temperature: '45.0' }, // line 9: temperature_out_of_range
    { record_id: 18, measured_at: at, temperature: '36.9', user_id: user.id }, // line 10: accepted
  ])}19,${at}\n`; // line 11: malformed_row (too few fields)
  const { pkg } = await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': second }));
  expect(pkg.all('import')).toEqual([{ file: 'readings.csv', received: '10', accepted: '1', duplicates: '1', rejected: '8', high_water_mark: '18' }]);
  expectConservation(pkg);
  expect(pkg.all('rejection').map((r) => [r.line, r.record_id, r.code]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
    ['3', '11', 'record_conflict'],
    ['4', undefined, 'invalid_record_id'],
    ['5', '13', 'unknown_user'],
    ['6', '14', 'invalid_timestamp'],
    ['7', '15', 'in_future'],
    ['8', '16', 'temperature_out_of_range'],
    ['9', '17', 'temperature_out_of_range'],
    ['11', undefined, 'malformed_row'],
  ]);
  // The conflicting reading kept its stored value: no fever event from the 39.0 that was refused.
  const readings = await suite.db.selectFrom('readings').select(['record_id', 'temperature']).where('device_id', '=', probe.identity.id).orderBy('record_id').execute();
  expect(readings.map((r) => [Number(r.record_id), Number(r.temperature)])).toEqual([[10, 36.6], [11, 36.8], [18, 36.9]]);
  const fevers = await suite.db.selectFrom('fever_events').select('id').where('school_id', '=', school.id).execute();
  expect(fevers).toEqual([]);
});

test('a readings.csv without its required columns is a file error; device.xml is still read', async () => {
  const { probe } = await aProbe();
  const { pkg } = await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': 'record_id,temperature\n1,36.6\n' }));
  expect(pkg.all('error')).toEqual([{ file: 'readings.csv', code: 'csv_invalid', detail: expect.stringContaining('measured_at') }]);
  expect(pkg.all('import')).toEqual([]);
});

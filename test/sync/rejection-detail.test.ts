// Issue 30: rejections that say what is wrong. A first upload whose header named 6 columns
// while its rows had 5 came back as identical `malformed_row` rejections with no detail, under a
// green "acknowledged". Every refused row now carries a detail (docs/protocol/v4.md §4.5) in the
// package's `<rejection detail>`, the table, and the REST API, on every channel that refuses
// rows; and the session says its rows were all refused (`rows_refused`).
import { expect, test } from '@jest/globals';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { messagesCsv, minutesAgo, readingsCsv } from '../channels/helpers.js';

const suite = useSuite({ worker: true });

async function aSchoolWithStaff() {
  const school = await aSchool(suite.db, { timezone: 'UTC', school_days: EVERY_DAY });
  const user = await aUser(suite.db, school.id);
  const token = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  return { school, user, token };
}

const detailsOf = (pkg: { all(name: string): Array<Record<string, string>> }) =>
  pkg.all('rejection').map((r) => [Number(r.line), r.code, r.detail]).sort((a, b) => (a[0] as number) - (b[0] as number));

test('a header naming 6 columns over rows of 5: every row refused with the mismatch, the session says all were refused', async () => {
  const { school, user, token } = await aSchoolWithStaff();
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  // The app developer's first try: a `temperature` column announced, never written.
  const rows = Array.from({ length: 4 }, (_, i) => `${i + 1},${user.id},checkin,${minutesAgo(10 - i)},`);
  const csv = `record_id,user_id,type,occurred_at,temperature,photo\n${rows.join('\n')}\n`;
  const { sessionId, pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': csv }));

  // Row-level, not a file error (v4 §4.3): the header is readable and has the required columns.
  expect(pkg.all('error')).toEqual([]);
  expect(pkg.all('import')).toEqual([{ file: 'attendances.csv', received: '4', accepted: '0', duplicates: '0', rejected: '4', high_water_mark: '0' }]);
  expect(detailsOf(pkg)).toEqual([2, 3, 4, 5].map((line) => [line, 'malformed_row', 'expected 6 fields, got 5']));

  const session = await http(suite.url, 'GET', `/api/sessions/${sessionId}`, { token });
  expect(session.status).toBe(200);
  expect(session.body).toMatchObject({ state: 'acknowledged', counts: { received: 4, accepted: 0, duplicates: 0, rejected: 4 }, rows_refused: 'all' });
  expect(session.body.rejections.map((r: any) => [r.line, r.code, r.detail])).toEqual([2, 3, 4, 5].map((line) => [line, 'malformed_row', 'expected 6 fields, got 5']));
  const paged = await http(suite.url, 'GET', `/api/sessions/${sessionId}/rejections?limit=2`, { token });
  expect(paged.body.items.map((r: any) => r.detail)).toEqual(['expected 6 fields, got 5', 'expected 6 fields, got 5']);
  const listed = await http(suite.url, 'GET', `/api/devices/${dev.identity.id}/sessions`, { token });
  expect(listed.body.items.map((s: any) => s.rows_refused)).toEqual(['all']);

  // Fixed: the rows go in, and the session says none was refused.
  const fixed = `record_id,user_id,type,occurred_at,temperature,photo\n${rows.map((r) => `${r},`).join('\n')}\n`;
  const again = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': fixed }));
  expect(again.pkg.all('rejection')).toEqual([]);
  expect((await http(suite.url, 'GET', `/api/sessions/${again.sessionId}`, { token })).body.rows_refused).toBe('none');
});

test('attendances.csv: each refused row names its column and value, cut short and without control characters; database refusals too', async () => {
  const { school, user, token } = await aSchoolWithStaff();
  const stranger = await aUser(suite.db, (await aSchool(suite.db)).id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const at = minutesAgo(5);
  await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': `record_id,user_id,type,occurred_at\n9,${user.id},checkin,${at}\n` }));

  const long = 'x'.repeat(300);
  const csv = [
    'record_id,user_id,type,occurred_at,temperature',
    `1,${user.id},chekin,${at},`,
    `2,${user.id},checkin,2026-13-01T08:00:00Z,`,
    `3,${user.id},checkin,${at},45.2`,
    `4,${user.id},${long},${at},`,
    `5,${user.id},"a\tb",${at},`,
    `6,${stranger.id},checkin,${at},`,
    `9,${user.id},checkout,${at},`,
    `7,${user.id},checkin,${at},`,
  ].join('\n');
  const { sessionId, pkg } = await dev.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': `${csv}\n` }));
  expect(pkg.all('import')[0]).toMatchObject({ received: '8', accepted: '1', rejected: '7' });
  const expected = [
    [2, 'invalid_type', 'type: "chekin" is not checkin or checkout'],
    [3, 'invalid_timestamp', 'occurred_at: "2026-13-01T08:00:00Z" is not an ISO 8601 time with offset (or Z) on a real date'],
    [4, 'temperature_out_of_range', 'temperature: "45.2" is not a plain decimal from 28.0 to 43.0 (°C)'],
    [5, 'invalid_type', `type: "${'x'.repeat(40)}…" is not checkin or checkout`],
    [6, 'invalid_type', 'type: "a\uFFFDb" is not checkin or checkout'],
    [7, 'unknown_user', `user_id ${stranger.id} is not a user of this school`],
    [8, 'record_conflict', 'record_id 9 is already held for this device with other content'],
  ];
  expect(detailsOf(pkg)).toEqual(expected);
  const stored = await http(suite.url, 'GET', `/api/sessions/${sessionId}/rejections`, { token });
  expect(stored.body.items.map((r: any) => [r.line, r.code, r.detail]).sort((a: any, b: any) => a[0] - b[0])).toEqual(expected);
  const session = await http(suite.url, 'GET', `/api/sessions/${sessionId}`, { token });
  expect(session.body.rows_refused).toBe('some');
});

test('sondes, messagerie and appel: refused rows carry their detail', async () => {
  const { school, user } = await aSchoolWithStaff();
  const at = minutesAgo(2);

  const probe = await new TestDevice(suite.url, await aDevice(suite.db, school.id), 'sondes').signIn();
  const readings = await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': readingsCsv([
    { record_id: 1, measured_at: at, temperature: '"36,6"', user_id: user.id },
    { record_id: 2, measured_at: at, temperature: '36.6', user_id: 'pupil-7' },
    { record_id: 3, measured_at: at, temperature: '36.6', sensor: 'x'.repeat(65) },
  ]) }));
  expect(detailsOf(readings.pkg)).toEqual([
    [2, 'temperature_out_of_range', 'temperature: "36,6" is not a plain decimal from 28.0 to 43.0 (°C)'],
    [3, 'unknown_user', 'user_id: "pupil-7" is not a user id (an integer from 1 to 2147483647, or empty)'],
    [4, 'malformed_row', `sensor: "${'x'.repeat(40)}…" is not 1–64 printable characters`],
  ]);

  const tablet = await new TestDevice(suite.url, await aDevice(suite.db, school.id), 'messagerie').signIn();
  const messages = await tablet.sync(batchZip({ 'device.xml': deviceXml(), 'messages.csv': messagesCsv([
    { record_id: 1, created_at: at, kind: 'alarm', body: 'Door 3 jammed' },
    { record_id: 2, created_at: at, kind: 'info', body: '   ' },
  ]) }));
  expect(detailsOf(messages.pkg)).toEqual([
    [2, 'invalid_type', 'kind: "alarm" is not info or incident'],
    [3, 'malformed_row', 'body: is empty'],
  ]);

  const teacher = await new TestDevice(suite.url, await aDevice(suite.db, school.id, { kind: 'mobile' }), 'appel').signIn();
  const day = schoolClock().today;
  const marks = await teacher.sync(batchZip({ 'device.xml': deviceXml(), 'marks.csv': [
    'record_id,user_id,date,period,mark,reason,marked_at',
    `1,${user.id},${day},P1,asleep,,${at}`,
    `2,${user.id},${day},P1,excused,,${at}`,
    `3,${user.id},2026-02-30,P1,absent,,${at}`,
    `4,${user.id},${day},P1,absent`,
  ].join('\n') }));
  expect(detailsOf(marks.pkg)).toEqual([
    [2, 'invalid_mark', 'mark: "asleep" is not present, late, absent or excused'],
    [3, 'invalid_reason', 'reason: "" is not one of illness, medical, family, authorised_activity, other (an excused mark needs one)'],
    [4, 'invalid_date', 'date: "2026-02-30" is not a real YYYY-MM-DD date from 2010 on'],
    [5, 'malformed_row', 'expected 7 fields, got 5'],
  ]);
});

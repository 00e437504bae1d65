// The appel channel (docs/protocol/v4.md §7.4): a teacher's roll call as marks.csv through the whole
// protocol — row rules, high-water mark, duplicates — and the marks' precedence in the figures:
// two teachers disagreeing are flagged, a pupil marked absent who checked in is present and
// flagged, staff marks win over teachers'.
import { expect, test } from '@jest/globals';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
const clock = schoolClock();

const marksCsv = (rows: string[]) => `record_id,user_id,date,period,mark,reason,marked_at\n${rows.join('\n')}\n`;
const at = (hhmm: string) => new Date(clock.at(0, hhmm)).toISOString();

test('roll calls from two teachers: imported, disagreements flagged, staff over teachers, every row code', async () => {
  const school = await aSchool(suite.db, { timezone: clock.timezone, school_days: EVERY_DAY });
  const [lea, max] = [await aUser(suite.db, school.id, { name: 'Léa' }), await aUser(suite.db, school.id, { name: 'Max' })];
  const other = await aUser(suite.db, (await aSchool(suite.db)).id);
  const token = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  // Max checked in this morning.
  expect((await http(suite.url, 'POST', '/api/attendances', { token, body: { user_id: max.id, type: 'checkin', occurred_at: at('08:00') } })).status).toBe(201);
  const [teacherA, teacherB] = [
    await new TestDevice(suite.url, await aDevice(suite.db, school.id, { kind: 'mobile' }), 'appel').signIn(),
    await new TestDevice(suite.url, await aDevice(suite.db, school.id, { kind: 'mobile' }), 'appel').signIn(),
  ];
  expect((await teacherA.manifest()).body.high_water_marks).toEqual({ 'marks.csv': 0 });

  const day = clock.today;
  const { pkg } = await teacherA.sync(batchZip({ 'device.xml': deviceXml(), 'marks.csv': marksCsv([
    `1,${lea.id},${day},P1,absent,,${at('08:05')}`,
    `2,${max.id},${day},P1,absent,,${at('08:05')}`,
    `3,${lea.id},${day},P1,excused,,${at('08:06')}`, // an excuse without a reason
    `4,${lea.id},${day},P1,present,illness,${at('08:06')}`, // a reason on another mark
    `5,${lea.id},${day},P1,asleep,,${at('08:06')}`,
    `6,${other.id},${day},P1,absent,,${at('08:06')}`, // another school's pupil
    `7,${lea.id},2026-02-30,P1,absent,,${at('08:06')}`,
  ]) }));
  expect(pkg.all('import')).toEqual([{ file: 'marks.csv', received: '7', accepted: '2', duplicates: '0', rejected: '5', high_water_mark: '2' }]);
  expect(pkg.all('rejection').map((r) => [r.record_id, r.code]).sort()).toEqual([
    ['3', 'invalid_reason'], ['4', 'invalid_reason'], ['5', 'invalid_mark'], ['6', 'unknown_user'], ['7', 'invalid_date'],
  ]);
  // The same rows again: duplicates; the same id with other content: a conflict.
  const again = await teacherA.sync(batchZip({ 'device.xml': deviceXml(), 'marks.csv': marksCsv([
    `1,${lea.id},${day},P1,absent,,${at('08:05')}`, `2,${max.id},${day},P1,late,,${at('08:05')}`,
  ]) }));
  expect(again.pkg.all('import')[0]).toMatchObject({ received: '2', accepted: '0', duplicates: '1', rejected: '1' });

  // Teacher B says Léa was there in P1.
  await teacherB.sync(batchZip({ 'device.xml': deviceXml(), 'marks.csv': marksCsv([`1,${lea.id},${day},P1,present,,${at('08:10')}`]) }));
  const historyOf = async (id: number) => (await http(suite.url, 'GET', `/api/users/${id}/history?from=${day}&to=${day}`, { token })).body.days[0];
  expect(await historyOf(lea.id)).toMatchObject({ status: 'present', mark: 'present', mark_conflict: 'teachers_disagree' });
  expect(await historyOf(max.id)).toMatchObject({ status: 'present', mark: 'absent', mark_conflict: 'absent_but_checked_in' });
  const conflicts = (await http(suite.url, 'GET', `/api/schools/${school.id}/marks/conflicts?from=${day}&to=${day}`, { token })).body.items;
  expect(conflicts.map((c: any) => [c.name, c.conflict]).sort()).toEqual([['Léa', 'teachers_disagree'], ['Max', 'absent_but_checked_in']]);

  // The office settles it: a staff mark wins over both teachers, whichever came first.
  expect((await http(suite.url, 'POST', '/api/marks', { token, body: { user_id: lea.id, from: day, mark: 'excused', reason: 'medical' } })).status).toBe(201);
  expect(await historyOf(lea.id)).toMatchObject({ status: 'excused', mark: 'excused', mark_reason: 'medical', mark_conflict: null });
  const marks = (await http(suite.url, 'GET', `/api/marks?user_id=${lea.id}`, { token })).body.items;
  expect(marks.map((m: any) => [m.author_kind, m.mark])).toEqual([['teacher', 'absent'], ['teacher', 'present'], ['api', 'excused']]);
  expect((await teacherA.manifest()).body.high_water_marks).toEqual({ 'marks.csv': 2 });
});

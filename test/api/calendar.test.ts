// The school calendar as an admin uses it: shared calendars and a school's own entries,
// scoping, the iCalendar import (preview, then idempotent), and figures that change at once
// when the calendar does — ETag included — with the counted and skipped days said.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aUser } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { calendar, HOSTILE_ICS, MALFORMED_ICS, type IcsOutcome } from '../support/ics-samples.js';
import { useSuite } from '../support/suite.js';
import { aWorld, type World } from './world.js';

const stack = useSuite({ worker: true });
let w: World;
const holidaysIcs = readFileSync(new URL('../support/calendars/fr-school-holidays-2025-2026-zone-c.ics', import.meta.url), 'utf8');
const publicHolidaysIcs = readFileSync(new URL('../support/calendars/fr-public-holidays-2025-2026.ics', import.meta.url), 'utf8');

beforeAll(async () => {
  w = await aWorld(stack.url, stack.db);
});

const ics = (token: string, path: string, body: string) => http(stack.url, 'POST', path, { token, body, headers: { 'content-type': 'text/calendar' } });

describe('a school\'s own entries', () => {
  test('its admins list, add, change and delete; another school\'s admin gets 404', async () => {
    const base = `/api/schools/${w.schoolA.id}/calendar/entries`;
    const made = await http(stack.url, 'POST', base, { token: w.adminA.token, body: { kind: 'closure', label: 'Strike', starts_on: '2026-11-10', ends_on: '2026-11-10' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ kind: 'closure', label: 'Strike', starts_on: '2026-11-10', ends_on: '2026-11-10', source: 'school', school_id: w.schoolA.id, uid: null });

    const changed = await http(stack.url, 'PATCH', `${base}/${made.body.id}`, { token: w.adminA.token, body: { label: 'Teachers\' strike', ends_on: '2026-11-11' } });
    expect(changed.body).toMatchObject({ label: 'Teachers\' strike', starts_on: '2026-11-10', ends_on: '2026-11-11' });
    const list = await http(stack.url, 'GET', `${base}?from=2026-11-01&to=2026-11-30`, { token: w.adminA.token });
    expect(list.body.items.map((e: any) => e.id)).toEqual([made.body.id]);

    // Another school: its admin sees nothing and can change nothing.
    expect((await http(stack.url, 'GET', base, { token: w.adminB.token })).status).toBe(404);
    expect((await http(stack.url, 'PATCH', `${base}/${made.body.id}`, { token: w.adminB.token, body: { label: 'x' } })).status).toBe(404);
    expect((await http(stack.url, 'PATCH', `/api/schools/${w.schoolB.id}/calendar/entries/${made.body.id}`, { token: w.adminB.token, body: { label: 'x' } })).status).toBe(404);
    expect((await http(stack.url, 'DELETE', `${base}/${made.body.id}`, { token: w.adminB.token })).status).toBe(404);

    const bad = await http(stack.url, 'POST', base, { token: w.adminA.token, body: { kind: 'closure', label: 'Backwards', starts_on: '2026-11-12', ends_on: '2026-11-10' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toEqual([{ field: 'body.ends_on', message: 'must not be before starts_on' }]);
    expect((await http(stack.url, 'POST', base, { token: w.adminA.token, body: { kind: 'vacation', label: 'x', starts_on: '2026-11-12', ends_on: '2026-11-12' } })).status).toBe(422);

    expect((await http(stack.url, 'DELETE', `${base}/${made.body.id}`, { token: w.adminA.token })).status).toBe(204);
    expect((await http(stack.url, 'DELETE', `${base}/${made.body.id}`, { token: w.adminA.token })).status).toBe(404);
  });
});

describe('a shared calendar', () => {
  test('the backoffice keeps it; a school subscribes; its admin reads it but cannot change it', async () => {
    const created = await http(stack.url, 'POST', '/api/calendars', { token: w.backoffice.token, body: { name: 'Zone C', region: 'Île-de-France' } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await http(stack.url, 'POST', '/api/calendars', { token: w.adminA.token, body: { name: 'Mine' } })).status).toBe(403);
    expect((await http(stack.url, 'GET', `/api/calendars/${id}`, { token: w.adminA.token })).status).toBe(404); // not subscribed yet

    const imported = await ics(w.backoffice.token, `/api/calendars/${id}/import?timezone=Europe/Paris`, holidaysIcs);
    expect(imported.status).toBe(200);
    expect(imported.body.summary).toEqual({ added: 6, changed: 0, unchanged: 0, skipped: 0 });

    const sub = await http(stack.url, 'PUT', `/api/schools/${w.schoolA.id}/calendar`, { token: w.backoffice.token, body: { shared_calendar_id: id } });
    expect(sub.status).toBe(200);
    expect(sub.body.shared_calendar).toMatchObject({ id, name: 'Zone C' });
    expect((await http(stack.url, 'PUT', `/api/schools/${w.schoolA.id}/calendar`, { token: w.adminA.token, body: { shared_calendar_id: null } })).status).toBe(403);

    expect((await http(stack.url, 'GET', `/api/calendars/${id}`, { token: w.adminA.token })).status).toBe(200);
    expect((await http(stack.url, 'GET', `/api/calendars/${id}`, { token: w.adminB.token })).status).toBe(404);
    expect((await http(stack.url, 'GET', '/api/calendars', { token: w.adminB.token })).body.items).toEqual([]);
    expect((await http(stack.url, 'POST', `/api/calendars/${id}/entries`, { token: w.adminA.token, body: { kind: 'closure', label: 'x', starts_on: '2026-01-05', ends_on: '2026-01-05' } })).status).toBe(403);

    // The school's effective calendar: shared holidays and its own entries, each day explained.
    await http(stack.url, 'POST', `/api/schools/${w.schoolA.id}/calendar/entries`, { token: w.adminA.token, body: { kind: 'closure', label: 'Snow day', starts_on: '2026-01-05', ends_on: '2026-01-05' } });
    const cal = await http(stack.url, 'GET', `/api/schools/${w.schoolA.id}/calendar?from=2026-01-02&to=2026-01-06`, { token: w.adminA.token });
    expect(cal.body.days).toEqual([
      { date: '2026-01-02', open: false, reason: 'holiday', label: 'Vacances de Noël - Zone C' },
      { date: '2026-01-03', open: false, reason: 'holiday', label: 'Vacances de Noël - Zone C' },
      { date: '2026-01-04', open: false, reason: 'holiday', label: 'Vacances de Noël - Zone C' },
      { date: '2026-01-05', open: false, reason: 'closure', label: 'Snow day' },
      { date: '2026-01-06', open: true, reason: null, label: null },
    ]);
    expect(cal.body.entries.map((e: any) => [e.source, e.label])).toEqual([['shared', 'Vacances de Noël - Zone C'], ['school', 'Snow day']]);

    // A calendar schools subscribe to cannot be deleted from under them.
    expect((await http(stack.url, 'DELETE', `/api/calendars/${id}`, { token: w.backoffice.token })).status).toBe(409);
    await http(stack.url, 'PUT', `/api/schools/${w.schoolA.id}/calendar`, { token: w.backoffice.token, body: { shared_calendar_id: null } });
    expect((await http(stack.url, 'DELETE', `/api/calendars/${id}`, { token: w.backoffice.token })).status).toBe(204);
  });
});

describe('iCalendar import', () => {
  test('a dry run says what would change and changes nothing; the same file twice changes nothing; a moved date is a change', async () => {
    const path = `/api/schools/${w.schoolB.id}/calendar/import?kind=public_holiday`;
    const preview = await ics(w.adminB.token, `${path}&dry_run=true`, publicHolidaysIcs);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ dry_run: true, kind: 'public_holiday', calendar_name: 'Jours fériés en France métropolitaine', summary: { added: 11, changed: 0, unchanged: 0, skipped: 0 } });
    expect(preview.body.items[4]).toEqual({
      uid: '20260406-ferie-metropole@jours-feries', action: 'add', entry_id: null, kind: 'public_holiday', kind_source: 'category', categories: ['Jour férié'],
      label: 'Lundi de Pâques', starts_on: '2026-04-06', ends_on: '2026-04-06', before: null,
    });
    const entries = `/api/schools/${w.schoolB.id}/calendar/entries`;
    expect((await http(stack.url, 'GET', entries, { token: w.adminB.token })).body.items).toEqual([]);

    expect((await ics(w.adminB.token, path, publicHolidaysIcs)).body.summary).toEqual({ added: 11, changed: 0, unchanged: 0, skipped: 0 });
    expect((await ics(w.adminB.token, path, publicHolidaysIcs)).body.summary).toEqual({ added: 0, changed: 0, unchanged: 11, skipped: 0 });
    expect((await http(stack.url, 'GET', entries, { token: w.adminB.token })).body.items).toHaveLength(11);

    const moved = publicHolidaysIcs.replace('DTSTART;VALUE=DATE:20260714\r\nDTEND;VALUE=DATE:20260715', 'DTSTART;VALUE=DATE:20260713\r\nDTEND;VALUE=DATE:20260715');
    const second = await ics(w.adminB.token, `${path}&dry_run=true`, moved);
    expect(second.body.summary).toEqual({ added: 0, changed: 1, unchanged: 10, skipped: 0 });
    expect(second.body.items.find((i: any) => i.action === 'change')).toMatchObject({
      label: 'Fête nationale', starts_on: '2026-07-13', ends_on: '2026-07-14', before: { kind: 'public_holiday', label: 'Fête nationale', starts_on: '2026-07-14', ends_on: '2026-07-14' },
    });

    // Another school's admin: 404. Not an iCalendar file: 422. No body: 400.
    expect((await ics(w.adminA.token, path, publicHolidaysIcs)).status).toBe(404);
    const bad = await ics(w.adminB.token, path, 'BEGIN:VCARD\r\nEND:VCARD\r\n');
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('validation_failed');
    expect((await http(stack.url, 'POST', path, { token: w.adminB.token, body: { ics: publicHolidaysIcs } })).status).toBe(400);
  });
});

describe('iCalendar import of malformed and hostile files (issue #33)', () => {
  const path = () => `/api/schools/${w.schoolB.id}/calendar/import?dry_run=true`;
  async function expectAnswer(res: { status: number; headers: Headers; body: any }, outcome: IcsOutcome) {
    if ('refused' in outcome) {
      expect({ status: res.status, type: res.headers.get('content-type'), code: res.body.code }).toEqual({ status: 422, type: expect.stringContaining('application/problem+json'), code: 'validation_failed' });
      expect(res.body.errors[0]).toEqual({ field: 'body', message: expect.stringMatching(outcome.refused) });
    } else if ('skipped' in outcome) {
      expect(res.status).toBe(200);
      expect(res.body.skipped).toEqual([expect.objectContaining({ reason: outcome.skipped })]);
    } else {
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(outcome.ranges);
    }
    // The api still answers everyone else.
    expect((await http(stack.url, 'GET', '/healthz')).status).toBe(200);
  }

  test.each(MALFORMED_ICS)('malformed: $name', async ({ text, outcome }) => {
    await expectAnswer(await ics(w.adminB.token, path(), text), outcome);
  });

  test('raw binary bytes and an unknown charset: a 4xx, not a 500', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff, 0xfe, 0xc3, 0x28]);
    const binary = await fetch(`${stack.url}${path()}`, { method: 'POST', headers: { authorization: `Bearer ${w.adminB.token}`, 'content-type': 'application/octet-stream' }, body: bytes });
    expect(binary.status).toBe(422);
    expect(binary.headers.get('content-type')).toContain('application/problem+json');
    const charset = await http(stack.url, 'POST', path(), { token: w.adminB.token, body: calendar(), headers: { 'content-type': 'text/calendar; charset=x-unknown' } });
    expect(charset.status).toBe(415);
  });

  // Each of these held the api's event loop (the first, of the issue, for good): now each is
  // answered within the file's budget and the api answers /healthz right after.
  test.each(HOSTILE_ICS)('hostile: $name', async ({ text, outcome }) => {
    await expectAnswer(await ics(w.adminB.token, path(), text), outcome);
  }, 30_000);

  test('an import (not a dry run) takes the readable events and says which it skipped', async () => {
    const file = calendar(
      'BEGIN:VEVENT', 'UID:ok@test', 'DTSTART;VALUE=DATE:20270405', 'DTEND;VALUE=DATE:20270410', 'SUMMARY:Spring break', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:hourly@test', 'DTSTART:20270101T080000', 'RRULE:FREQ=HOURLY', 'SUMMARY:Every hour', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:long@test', 'DTSTART;VALUE=DATE:20270101', 'DURATION:P999W', 'SUMMARY:Forever', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:leap@test', 'DTSTART;VALUE=DATE:20280229', 'RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', 'SUMMARY:Leap day', 'END:VEVENT',
    );
    const res = await ics(w.adminB.token, `/api/schools/${w.schoolB.id}/calendar/import?kind=closure`, file);
    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ added: 3, changed: 0, unchanged: 0, skipped: 2 });
    expect(res.body.items.map((i: any) => [i.uid, i.starts_on, i.ends_on])).toEqual([
      ['ok@test', '2027-04-05', '2027-04-09'], ['leap@test/2028-02-29', '2028-02-29', '2028-02-29'], ['leap@test/2032-02-29', '2032-02-29', '2032-02-29'],
    ]);
    expect(res.body.skipped).toEqual([
      { uid: 'hourly@test', label: 'Every hour', reason: 'recurrence_unbounded' },
      { uid: 'long@test', label: 'Forever', reason: 'too_long' },
    ]);
    const entries = await http(stack.url, 'GET', `/api/schools/${w.schoolB.id}/calendar/entries?from=2027-04-01&to=2027-04-30`, { token: w.adminB.token });
    expect(entries.body.items).toEqual([expect.objectContaining({ uid: 'ok@test', kind: 'closure', starts_on: '2027-04-05', ends_on: '2027-04-09' })]);
  });
});

let recordId = 0;
function dayRows(userId: number, date: string, inAt: string, outAt: string): CsvAttendance[] {
  return [
    { record_id: ++recordId, user_id: userId, type: 'checkin', occurred_at: `${date}T${inAt}:00+01:00` },
    { record_id: ++recordId, user_id: userId, type: 'checkout', occurred_at: `${date}T${outAt}:00+01:00` },
  ];
}

describe('figures, who and history with the calendar', () => {
  test('a closure added afterwards changes the week at once (new ETag), says why, and empties that day', async () => {
    // Recorded since November (issue #28: days before records_from would be "no data").
    const [school] = await stack.db.insertInto('schools').values({ name: 'Calendar school', timezone: 'Europe/Paris', records_from: '2026-11-01' }).returningAll().execute();
    const ana = await aUser(stack.db, school.id, { enrolled_on: '2026-10-01' });
    const ben = await aUser(stack.db, school.id, { enrolled_on: '2026-10-01' });
    const device = await new TestDevice(stack.url, await aDevice(stack.db, school.id)).signIn();
    // Week of Mon 2026-11-09: Ana Tue–Fri (4 of 5: absent); Ben comes to the Saturday event only.
    const rows = ['2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13'].flatMap((d) => dayRows(ana.id, d, '08:00', '16:00'));
    rows.push(...dayRows(ben.id, '2026-11-14', '09:00', '11:00'));
    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
    const { token } = w.backoffice;

    const weekPath = `/api/attendances/aggregate/school/${school.id}?period=week&from=2026-11-09&to=2026-11-15&include=users`;
    const before = await http(stack.url, 'GET', weekPath, { token });
    expect(before.body.buckets[0]).toMatchObject({ present: 0, absent: 2, total: 2, open_days: 5 });
    expect(before.body.rule).toMatchObject({ present_day_seconds: 14400, period_threshold_percent: 80 });
    const etag = before.headers.get('etag')!;

    await http(stack.url, 'POST', `/api/schools/${school.id}/calendar/entries`, { token, body: { kind: 'closure', label: 'Snow day', starts_on: '2026-11-09', ends_on: '2026-11-09' } });
    const after = await http(stack.url, 'GET', weekPath, { token, headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(after.body.buckets[0]).toMatchObject({
      present: 1, absent: 1, total: 2, open_days: 4,
      counted_days: ['2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13'],
      skipped_days: [
        { date: '2026-11-09', reason: 'closure', label: 'Snow day' },
        { date: '2026-11-14', reason: 'not_a_school_day', label: 'Saturday' },
        { date: '2026-11-15', reason: 'not_a_school_day', label: 'Sunday' },
      ],
      attended_closed_days: ['2026-11-14'],
    });
    const byUser = Object.fromEntries(after.body.users.map((u: any) => [u.user_id, [u.statuses[0], u.counts[0]]]));
    expect(byUser).toMatchObject({ [ana.id]: ['present', { open_days: 4, days_present: 4 }], [ben.id]: ['absent', { open_days: 4, days_present: 0 }] });

    const days = await http(stack.url, 'GET', `/api/attendances/aggregate/school/${school.id}?period=day&from=2026-11-09&to=2026-11-14`, { token });
    expect(days.body.buckets.map((b: any) => [b.start, b.present, b.absent, b.total, b.school_day])).toEqual([
      ['2026-11-09', 0, 0, 0, false], // closed: no school
      ['2026-11-10', 1, 1, 2, true],
      ['2026-11-11', 1, 1, 2, true],
      ['2026-11-12', 1, 1, 2, true],
      ['2026-11-13', 1, 1, 2, true],
      ['2026-11-14', 1, 0, 1, false], // the Saturday event: Ben came (2 h), nobody absent
    ]);

    const history = await http(stack.url, 'GET', `/api/users/${ben.id}/history?from=2026-11-09&to=2026-11-15`, { token });
    expect(history.status).toBe(200);
    expect(history.body.summary).toMatchObject({ open_days: 4, days_present: 0, closed_days_attended: 1 });
    expect(history.body.days.map((d: any) => [d.date, d.open, d.status, d.seconds])).toEqual([
      ['2026-11-09', false, null, 0], ['2026-11-10', true, 'absent', 0], ['2026-11-11', true, 'absent', 0], ['2026-11-12', true, 'absent', 0],
      ['2026-11-13', true, 'absent', 0], ['2026-11-14', false, 'present', 7200], ['2026-11-15', false, null, 0],
    ]);
    expect(history.body.days[5]).toMatchObject({ first_checkin_at: '2026-11-14T08:00:00.000Z', closed: { reason: 'not_a_school_day', label: 'Saturday' } });
    expect(history.body.periods).toBeUndefined();
    // Per week, as the figures count it: the whole week even when the range clips it, with the counts behind the verdict.
    const weekly = await http(stack.url, 'GET', `/api/users/${ana.id}/history?from=2026-11-11&to=2026-11-12&period=week`, { token });
    expect(weekly.body.days.map((d: any) => d.date)).toEqual(['2026-11-11', '2026-11-12']);
    expect(weekly.body.periods).toMatchObject([{ start: '2026-11-09', end: '2026-11-15', status: 'present', open_days: 4, days_present: 4 }]);
    const benWeekly = await http(stack.url, 'GET', `/api/users/${ben.id}/history?from=2026-11-09&to=2026-11-15&period=week`, { token });
    expect(benWeekly.body.periods).toMatchObject([{ start: '2026-11-09', end: '2026-11-15', status: 'absent', open_days: 4, days_present: 0 }]);
    const monthly = await http(stack.url, 'GET', `/api/users/${ana.id}/history?from=2026-11-09&to=2026-11-15&period=month`, { token });
    expect(monthly.body.periods).toHaveLength(1);
    expect(monthly.body.periods[0]).toMatchObject({ start: '2026-11-01', end: '2026-11-30', status: 'absent', days_present: 4 });
    expect((await http(stack.url, 'GET', `/api/users/${ana.id}/history?from=2026-11-09&to=2026-11-15&period=day`, { token })).status).toBe(422);
    expect((await http(stack.url, 'GET', `/api/users/${ben.id}/history?from=2026-11-09&to=2026-11-15`, { token: w.adminA.token })).status).toBe(404);
  });

  test('absent today: nobody checked in yet, so everyone counted is listed; a closure today lists nobody', async () => {
    const [school] = await stack.db.insertInto('schools').values({ name: 'Today school', timezone: 'UTC', school_days: [1, 2, 3, 4, 5, 6, 7], day_end: '23:59' }).returningAll().execute();
    const ana = await aUser(stack.db, school.id, { enrolled_on: '2020-01-01', name: 'Ana' });
    await aUser(stack.db, school.id, { enrolled_on: '2999-01-01', name: 'Later' });
    const { token } = w.backoffice;
    const res = await http(stack.url, 'GET', `/api/schools/${school.id}/presence/absent`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ open: true, closed: null, counts: { counted: 1, present: 0 } });
    expect(res.body.items).toEqual([expect.objectContaining({ user_id: ana.id, name: 'Ana', first_checkin_at: null, seconds: 0 })]);
    expect(['absent', 'not_yet_arrived']).toContain(res.body.items[0].status);

    const today = res.body.today;
    await http(stack.url, 'POST', `/api/schools/${school.id}/calendar/entries`, { token, body: { kind: 'closure', label: 'Flood', starts_on: today, ends_on: today } });
    const closed = await http(stack.url, 'GET', `/api/schools/${school.id}/presence/absent`, { token });
    expect(closed.body).toMatchObject({ open: false, closed: { reason: 'closure', label: 'Flood' }, counts: { counted: 0, absent: 0, not_yet_arrived: 0 }, items: [] });
    expect((await http(stack.url, 'GET', `/api/schools/${school.id}/presence/absent`, { token: w.adminA.token })).status).toBe(404);
  });
});

// Running a school from the dashboard (issue #29 items 3–5), through the REST API: a calendar
// file mixing kinds imports each event as its own kind (its CATEGORIES, or the mapping the
// preview lets the person change); every calendar write is audited with its author; another
// school's admin gets 404 (or an empty list) on every route; figures, pupils' verdicts,
// alerts and attendances export as CSV a French office opens and as typed XLSX; and the
// pupil search ignores accents and case.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { aUser } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { aWorld, type World } from './world.js';

const stack = useSuite();
let w: World;
const ownYear = readFileSync(new URL('../../fixtures/calendars/school-own-2026-2027.ics', import.meta.url), 'utf8');

beforeAll(async () => {
  w = await aWorld(stack.url, stack.db);
});

const ics = (token: string, path: string, body: string) => http(stack.url, 'POST', path, { token, body, headers: { 'content-type': 'text/calendar' } });
const auditOf = (schoolId: number) => stack.db.selectFrom('staff_audit').selectAll().where('school_id', '=', schoolId).orderBy('id').execute();

/** The raw bytes of a GET (fetch's text() would drop the byte order mark). */
async function bytes(path: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', disposition: res.headers.get('content-disposition') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

describe('calendar import: each event its own kind', () => {
  test('a file mixing a term, holidays, a public holiday, a strike and a closure imports four kinds, audited once', async () => {
    const path = `/api/schools/${w.schoolA.id}/calendar/import`;
    const preview = await ics(w.adminA.token, `${path}?dry_run=true`, ownYear);
    expect(preview.status).toBe(200);
    expect(preview.body.categories).toEqual([
      { name: 'Année scolaire', kind: 'term', source: 'category', events: 1 },
      { name: 'Vacances', kind: 'holiday', source: 'category', events: 2 },
      { name: 'Jour férié', kind: 'public_holiday', source: 'category', events: 1 },
      { name: 'Grève', kind: 'closure', source: 'category', events: 1 },
      { name: 'Fermeture', kind: 'closure', source: 'category', events: 1 },
    ]);
    expect(preview.body.items.map((i: any) => [i.label, i.kind])).toEqual([
      ['Année scolaire 2026-2027', 'term'], ['Vacances de la Toussaint', 'holiday'], ['Armistice 1918', 'public_holiday'],
      ['Grève des enseignants', 'closure'], ['Vacances de Noël', 'holiday'], ['Journée pédagogique', 'closure'],
    ]);
    expect(await auditOf(w.schoolA.id)).toEqual([]); // a dry run writes nothing, the audit included

    // The mapping shown in the preview, changed: the pedagogical day as a holiday this time.
    const mapping = encodeURIComponent(JSON.stringify({ Fermeture: 'holiday' }));
    const done = await ics(w.adminA.token, `${path}?categories=${mapping}`, ownYear);
    expect(done.status).toBe(200);
    expect(done.body.summary).toEqual({ added: 6, changed: 0, unchanged: 0, skipped: 0 });
    expect(done.body.items.find((i: any) => i.label === 'Journée pédagogique')).toMatchObject({ kind: 'holiday', kind_source: 'mapping' });
    const cal = await http(stack.url, 'GET', `/api/schools/${w.schoolA.id}/calendar?from=2026-11-23&to=2026-11-25`, { token: w.adminA.token });
    expect(cal.body.days.map((d: any) => [d.date, d.open, d.reason])).toEqual([
      ['2026-11-23', true, null], ['2026-11-24', false, 'closure'], ['2026-11-25', true, null],
    ]);

    const audit = await auditOf(w.schoolA.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ staff_id: w.adminA.id, action: 'calendar.import', subject: 'calendar', school_id: w.schoolA.id });
    expect(audit[0].staff_email).toContain('@');
    expect(audit[0].details).toMatchObject({ summary: { added: 6 } });
    expect(Date.now() - new Date(audit[0].at).getTime()).toBeLessThan(60_000);

    // The same file again: nothing changes, nothing audited.
    expect((await ics(w.adminA.token, `${path}?categories=${mapping}`, ownYear)).body.summary).toMatchObject({ added: 0, changed: 0, unchanged: 6 });
    expect(await auditOf(w.schoolA.id)).toHaveLength(1);
  });

  test('a mapping that is not category → kind is refused', async () => {
    const res = await ics(w.adminA.token, `/api/schools/${w.schoolA.id}/calendar/import?dry_run=true&categories=${encodeURIComponent('{"Grève":"strike"}')}`, ownYear);
    expect(res.status).toBe(422);
  });
});

describe('every calendar write is audited and scoped', () => {
  test('add, change, delete: one row each naming who and what; another school gets 404 and leaves no row', async () => {
    const base = `/api/schools/${w.schoolB.id}/calendar/entries`;
    const made = await http(stack.url, 'POST', base, { token: w.adminB.token, body: { kind: 'closure', label: 'Grève', starts_on: '2027-01-12', ends_on: '2027-01-12' } });
    expect(made.status).toBe(201);
    const entry = `${base}/${made.body.id}`;

    // Another school's admin: 404 on every route of the entry, the import and the calendar, and nothing written.
    const other = w.adminA.token;
    expect((await http(stack.url, 'GET', base, { token: other })).status).toBe(404);
    expect((await http(stack.url, 'POST', base, { token: other, body: { kind: 'closure', label: 'x', starts_on: '2027-01-13', ends_on: '2027-01-13' } })).status).toBe(404);
    expect((await http(stack.url, 'PATCH', entry, { token: other, body: { label: 'Hacked' } })).status).toBe(404);
    expect((await http(stack.url, 'DELETE', entry, { token: other })).status).toBe(404);
    expect((await ics(other, `/api/schools/${w.schoolB.id}/calendar/import?dry_run=true`, ownYear)).status).toBe(404);
    expect((await http(stack.url, 'GET', `/api/schools/${w.schoolB.id}/calendar?from=2027-01-01&to=2027-01-31`, { token: other })).status).toBe(404);
    // An entry id of school B under school A's own path: not A's entry.
    expect((await http(stack.url, 'PATCH', `/api/schools/${w.schoolA.id}/calendar/entries/${made.body.id}`, { token: other, body: { label: 'Hacked' } })).status).toBe(404);
    expect((await http(stack.url, 'DELETE', `/api/schools/${w.schoolA.id}/calendar/entries/${made.body.id}`, { token: other })).status).toBe(404);

    expect((await http(stack.url, 'PATCH', entry, { token: w.backoffice.token, body: { label: 'Grève des enseignants', ends_on: '2027-01-13' } })).status).toBe(200);
    expect((await http(stack.url, 'DELETE', entry, { token: w.adminB.token })).status).toBe(204);

    const rows = await auditOf(w.schoolB.id);
    expect(rows.map((r) => [r.action, r.staff_id, r.subject_id])).toEqual([
      ['calendar_entry.create', w.adminB.id, made.body.id],
      ['calendar_entry.update', w.backoffice.id, made.body.id],
      ['calendar_entry.delete', w.adminB.id, made.body.id],
    ]);
    expect(rows[1].details).toEqual({ before: { label: 'Grève', ends_on: '2027-01-12' }, after: { label: 'Grève des enseignants', ends_on: '2027-01-13' } });
    expect(rows[2].details).toMatchObject({ entry: { label: 'Grève des enseignants', kind: 'closure' } });

    // GET /api/audit: the school's admin reads their school's rows, never another's.
    const mine = await http(stack.url, 'GET', '/api/audit?subject=calendar_entry', { token: w.adminB.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((r: any) => r.action)).toEqual(['calendar_entry.delete', 'calendar_entry.update', 'calendar_entry.create']);
    expect(mine.body.items[1]).toMatchObject({ staff_id: w.backoffice.id, school_id: w.schoolB.id });
    const theirs = await http(stack.url, 'GET', `/api/audit?school_id=${w.schoolB.id}`, { token: w.adminA.token });
    expect(theirs.body.items).toEqual([]);
    const unfiltered = await http(stack.url, 'GET', '/api/audit', { token: w.adminA.token });
    expect(unfiltered.body.items.every((r: any) => r.school_id === w.schoolA.id)).toBe(true);
    const all = await http(stack.url, 'GET', `/api/audit?school_id=${w.schoolB.id}&limit=2`, { token: w.backoffice.token });
    expect(all.body.items).toHaveLength(2);
    expect(all.body.next_cursor).not.toBeNull();
  });

  test('shared calendars: created with a timezone (as the docs say), writes audited', async () => {
    const made = await http(stack.url, 'POST', '/api/calendars', { token: w.backoffice.token, body: { name: 'Zone C 2026-2027', region: 'Zone C', timezone: 'Europe/Paris' } });
    expect(made.status).toBe(201);
    expect(made.body.timezone).toBe('Europe/Paris');
    expect((await http(stack.url, 'POST', '/api/calendars', { token: w.backoffice.token, body: { name: 'x', timezone: 'Mars/Olympus' } })).status).toBe(422);
    // The calendar's zone places a UTC time: 23:00Z on 19 December is the 20th in Paris.
    const file = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:noel', 'DTSTART:20261219T230000Z', 'DTEND:20270103T230000Z', 'SUMMARY:Noël', 'CATEGORIES:Vacances', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    const imported = await ics(w.backoffice.token, `/api/calendars/${made.body.id}/import`, file);
    expect(imported.body.items[0]).toMatchObject({ starts_on: '2026-12-20', ends_on: '2027-01-03', kind: 'holiday' });
    const rows = await stack.db.selectFrom('staff_audit').selectAll().where('subject', '=', 'calendar').where('subject_id', '=', made.body.id).orderBy('id').execute();
    expect(rows.map((r) => [r.action, r.school_id, r.staff_id])).toEqual([['calendar.create', null, w.backoffice.id], ['calendar.import', null, w.backoffice.id]]);
  });
});

describe('exports a French office opens', () => {
  let chloe: Awaited<ReturnType<typeof aUser>>;
  beforeAll(async () => {
    chloe = await aUser(stack.db, w.schoolB.id, { name: 'Chloé Fernández', badge: 'K003', enrolled_on: '2026-01-01' });
    await aUser(stack.db, w.schoolB.id, { name: '=HYPERLINK("http://x")', badge: 'K004', enrolled_on: '2026-01-01' });
    // Through the API, which keeps the figures: in at 07:55Z with a fever, out at 13:00Z (over 4 h: present).
    for (const [type, at, temperature] of [['checkin', '2026-11-10T07:55:00Z', 38.2], ['checkout', '2026-11-10T13:00:00Z', null]] as const) {
      const res = await http(stack.url, 'POST', '/api/attendances', { token: w.adminB.token, body: { user_id: chloe.id, type, occurred_at: at, temperature } });
      expect(res.status).toBe(201);
    }
  });

  test('figures as CSV in French: byte order mark, ";", translated headers, dates as a French reader writes them', async () => {
    const path = `/api/attendances/aggregate/school/${w.schoolB.id}?period=week&from=2026-11-09&to=2026-11-22&format=csv&lang=fr`;
    const res = await bytes(path, w.adminB.token);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/csv');
    expect(res.disposition).toMatch(/attachment; filename=".+\.csv"/);
    expect([...res.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(res.body, { delimiter: ';', bom: true, columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0])).toEqual(['Début de période', 'Fin de période', 'Taux de présence', 'Présents', 'Absents', 'Total', 'Jours en retard', 'Jours excusés', 'Pas encore de données', 'Jours ouverts', 'Jours fermés', 'Définitif']);
    expect(rows.map((r) => r['Début de période'])).toEqual(['09/11/2026', '16/11/2026']);
    expect(rows[0]['Définitif']).toMatch(/^(oui|non)$/);
    // English from Accept-Language: "," and ISO days.
    const en = await bytes(path.replace('&lang=fr', ''), w.adminB.token, { 'accept-language': 'en-GB,en;q=0.8' });
    const enRows = parse(en.body, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(enRows[0]['Period start']).toBe('2026-11-09');
    // Another school: 404, as the figures themselves.
    expect((await bytes(path, w.adminA.token)).status).toBe(404);
  });

  test('pupils\' verdicts as CSV keep accents and escape formulas; as XLSX the cells are typed', async () => {
    const base = `/api/attendances/aggregate/school/${w.schoolB.id}?period=day&from=2026-11-09&to=2026-11-10&table=users&lang=fr`;
    const csv = await bytes(`${base}&format=csv`, w.adminB.token);
    const rows = parse(csv.body, { delimiter: ';', bom: true }) as string[][];
    expect(rows[0]).toEqual(['Identifiant', 'Nom', 'Badge', '09/11/2026', '10/11/2026']);
    // Monday is before the school's first record (records_from): no data, not absent.
    expect(rows).toContainEqual([String(chloe.id), 'Chloé Fernández', 'K003', 'pas de données', 'présent']);
    expect(rows.some((r) => r[1] === '\'=HYPERLINK("http://x")')).toBe(true);

    const figures = await bytes(`/api/attendances/aggregate/school/${w.schoolB.id}?period=day&from=2026-11-09&to=2026-11-10&format=xlsx&lang=fr`, w.adminB.token);
    expect(figures.type).toContain('spreadsheetml');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(figures.body as unknown as ArrayBuffer);
    const sheet = book.worksheets[0];
    expect(sheet.name).toBe('Chiffres');
    expect(sheet.getRow(1).values).toEqual([undefined, 'Début de période', 'Fin de période', 'Taux de présence', 'Présents', 'Absents', 'Total', 'Jours en retard', 'Jours excusés', 'Pas encore de données', 'Jours ouverts', 'Jours fermés', 'Définitif']);
    const tuesday = sheet.getRow(3);
    expect(tuesday.getCell(1).value).toEqual(new Date('2026-11-10T00:00:00Z'));
    expect(tuesday.getCell(1).numFmt).toBe('dd/mm/yyyy');
    expect(tuesday.getCell(4).value).toBe(1); // present
    expect(tuesday.getCell(3).value).toBe(0.5); // the attendance rate, first after the period
    expect(tuesday.getCell(3).numFmt).toBe('0.0%');
    expect(typeof tuesday.getCell(12).value).toBe('boolean');

    const pupils = await bytes(`${base}&format=xlsx`, w.adminB.token);
    const pbook = new ExcelJS.Workbook();
    await pbook.xlsx.load(pupils.body as unknown as ArrayBuffer);
    const names = pbook.worksheets[0].getColumn(2).values.filter(Boolean);
    expect(names).toContain('Chloé Fernández');
    // A name that looks like a formula stays a string cell, never a formula.
    const cell = pbook.worksheets[0].getColumn(2).values.find((v) => typeof v === 'string' && v.includes('HYPERLINK'));
    expect(cell).toBe('=HYPERLINK("http://x")');
  });

  test('alerts and attendances: local times with the zone named, temperatures with a decimal comma in French', async () => {
    const tz = w.schoolB.timezone;
    const att = await bytes(`/api/attendances?user_id=${chloe.id}&format=csv&lang=fr`, w.adminB.token);
    const rows = parse(att.body, { delimiter: ';', bom: true }) as string[][];
    expect(rows[0]).toEqual([`Heure (${tz})`, 'Identifiant', 'Type', 'Température (°C)', 'Appareil', 'Photo', 'Horloge douteuse']);
    const local = new Intl.DateTimeFormat('fr-FR', { timeZone: tz, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date('2026-11-10T07:55:00Z')).replace(',', '');
    expect(rows[1]).toEqual([local, String(chloe.id), 'arrivée', '38,2', '', '', 'non']);
    expect(rows[2].slice(1, 4)).toEqual([String(chloe.id), 'départ', '']);
    const xlsx = await bytes(`/api/attendances?user_id=${chloe.id}&format=xlsx&lang=en`, w.adminB.token);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    expect(book.worksheets[0].getRow(2).getCell(1).value).toBeInstanceOf(Date);
    expect(book.worksheets[0].getRow(2).getCell(4).value).toBe(38.2);
    // Another school's pupil: an empty file, as the list answers an empty page.
    const theirs = await bytes(`/api/attendances?user_id=${chloe.id}&format=csv&lang=fr`, w.adminA.token);
    expect(parse(theirs.body, { delimiter: ';', bom: true })).toHaveLength(1);

    const alerts = await bytes(`/api/alerts?school_id=${w.schoolB.id}&format=csv&lang=en`, w.adminB.token);
    expect(alerts.status).toBe(200);
    expect((parse(alerts.body, { bom: true }) as string[][])[0]).toEqual([`Time (${tz})`, 'User id', 'Name', 'Temperature (°C)', 'Source', 'Device']);
    const otherAlerts = await bytes(`/api/alerts?school_id=${w.schoolB.id}&format=csv&lang=en`, w.adminA.token);
    expect(parse(otherAlerts.body, { bom: true })).toHaveLength(1);
  });
});

describe('search as people type', () => {
  test('"chloe" finds Chloé and "FERNANDEZ" Fernández, ignoring accents and case; never another school\'s', async () => {
    const school = w.schoolA.id;
    const chloe = await aUser(stack.db, school, { name: 'Chloé Fernández-Núñez', badge: 'S101' });
    await aUser(stack.db, school, { name: 'Zoë Œuvrard', badge: 'S102' });
    const find = async (q: string, token = w.adminA.token) => (await http(stack.url, 'GET', `/api/users?q=${encodeURIComponent(q)}`, { token })).body.items.map((u: any) => u.name);
    expect(await find('chloe')).toEqual(['Chloé Fernández-Núñez']);
    expect(await find('FERNANDEZ')).toEqual(['Chloé Fernández-Núñez']);
    expect(await find('nunez')).toEqual(['Chloé Fernández-Núñez']);
    expect(await find('ZOE')).toEqual(['Zoë Œuvrard']);
    expect(await find('s10')).toEqual(['Chloé Fernández-Núñez', 'Zoë Œuvrard']);
    expect(await find('100%')).toEqual([]);
    expect(await find('chloe', w.adminB.token)).not.toContain(chloe.name);
  });
});

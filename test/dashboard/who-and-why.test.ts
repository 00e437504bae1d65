// From a number to the people behind it, and the rules on the page, in a real Chromium against
// the real api and worker, for a school admin and for backoffice, in English and in French:
// Today lists who is absent or not yet arrived (names open the pupil's page); the pupil's page
// shows their verdict per week or month with the counts behind it, and their days with closed
// days saying why, all as GET /api/users/:id/history answers; Figures shades closed days and
// says why, shows each verdict's counts in the table, on hover and on keyboard focus, and the
// rule in force. On paper the pupil page keeps its tables; axe finds nothing serious.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser, openPage, screenshot } from '../support/browser.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { localTimeOnDate } from '../../shared/time/zoned.js';
import { schoolClock } from '../support/clock.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off' } });
// Where it is mid-day now: "20 minutes ago" is today, and no midnight falls during the run.
const CLOCK = schoolClock();
const TZ = CLOCK.timezone;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const isoWeekday = (day: string) => ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;

let school: Awaited<ReturnType<typeof aSchool>>;
let admin: { email: string; password: string };
let backoffice: { email: string; password: string };
let token: string;
let pupils: Record<string, Awaited<ReturnType<typeof aUser>>>;
let today: string;
let closure: string;
let offDay: string;
let holiday: string[];

/**
 * Two weeks of a school where it is now mid-day: a closure, two days of holiday and one weekday
 * that is not a school day (three days ago, so today is always open); Grace comes on that day anyway. Today,
 * Ada is in, Barbara came and left within minutes (absent), the others have not arrived yet
 * (the school day ends at 23:59).
 */
async function seed(): Promise<void> {
  today = CLOCK.today;
  offDay = addDays(today, -3);
  closure = addDays(today, -5);
  holiday = [addDays(today, -9), addDays(today, -8)];
  const schoolDays = [1, 2, 3, 4, 5, 6, 7].filter((d) => d !== isoWeekday(offDay));
  school = await aSchool(suite.db, { name: 'Lycée Voltaire', timezone: TZ, school_days: schoolDays, day_end: '23:59' });
  pupils = {};
  for (const name of ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov']) {
    pupils[name.split(' ')[0]] = await aUser(suite.db, school.id, { name, enrolled_on: addDays(today, -60) });
  }
  admin = await aStaff(suite.db, 'school_admin', school.id);
  backoffice = await aStaff(suite.db, 'backoffice');
  token = await loginAs(suite.url, admin);
  const entry = (kind: string, label: string, from: string, to: string) =>
    http(suite.url, 'POST', `/api/schools/${school.id}/calendar/entries`, { token, body: { kind, label, starts_on: from, ends_on: to } });
  expect((await entry('closure', 'Journée pédagogique', closure, closure)).status).toBe(201);
  expect((await entry('holiday', 'Vacances d’automne', holiday[0], holiday[1])).status).toBe(201);

  const device = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = [];
  let record = 0;
  const visit = (userId: number, date: string, fromHour: number, hours: number) => {
    const start = localTimeOnDate(date, `${String(fromHour).padStart(2, '0')}:00`, TZ).getTime();
    rows.push({ record_id: ++record, user_id: userId, type: 'checkin', occurred_at: iso(start) });
    rows.push({ record_id: ++record, user_id: userId, type: 'checkout', occurred_at: iso(start + hours * 3600_000) });
  };
  for (let k = 14; k >= 1; k--) {
    const date = addDays(today, -k);
    if (date === offDay) { visit(pupils.Grace.id, date, 9, 2); continue; }
    if (date === closure || holiday.includes(date)) continue;
    if (k % 4 !== 0) visit(pupils.Ada.id, date, 8, 7);
    visit(pupils.Alan.id, date, 8, k % 3 === 0 ? 3 : 7);
    visit(pupils.Grace.id, date, 8, 7);
  }
  const now = Date.now();
  rows.push({ record_id: ++record, user_id: pupils.Ada.id, type: 'checkin', occurred_at: iso(now - 20 * 60_000) });
  rows.push({ record_id: ++record, user_id: pupils.Barbara.id, type: 'checkin', occurred_at: iso(now - 3 * 60_000) });
  rows.push({ record_id: ++record, user_id: pupils.Barbara.id, type: 'checkout', occurred_at: iso(now - 2 * 60_000) });
  await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
  await suite.worker!.drain();
}

let english: Browser;
let french: Browser;
beforeAll(async () => {
  await seed();
  [english, french] = await Promise.all([launchBrowser('en-GB'), launchBrowser('fr-FR')]);
});
afterAll(async () => {
  await english?.close();
  await french?.close();
});

const api = (path: string) => http(suite.url, 'GET', path, { token });

/** What each language writes, built here independently of the dashboard's catalogue. */
const LANG = {
  en: {
    locale: 'en-GB', email: 'Email', password: 'Password', signIn: 'Sign in', school: 'School',
    tabs: { today: 'Today', figures: 'Figures', pupils: 'Pupils' },
    absentCaption: (a: number, n: number) => `Absent (${a}) and not yet arrived (${n})`,
    status: { absent: 'absent', not_yet_arrived: 'not yet arrived' } as Record<string, string>,
    openDays: (n: number) => `${n} open day${n === 1 ? '' : 's'}`,
    verdict: (s: string, p: number, o: number) => `${s}: ${p} of ${LANG.en.openDays(o)}`,
    word: { present: 'present', absent: 'absent' } as Record<string, string>,
    notCounted: 'not counted',
    weekOf: (d: string) => `week of ${d}`,
    periods: (name: string, p: 'week' | 'month') => `${name}, ${p} by ${p}`,
    daysOf: (name: string) => `Days of ${name}`,
    verdictsBy: 'Verdicts by',
    open: 'open',
    closure: 'Closed: closure (Journée pédagogique)',
    holiday: 'Closed: holiday (Vacances d’automne)',
    offDay: 'Closed: not a school day',
    ruleTitle: 'How attendance is counted',
    rulePercent: 'more than 80%',
    period: 'Period',
    perDay: 'Present and absent per day',
    usersPerDay: 'Status of each pupil per day',
    usersPerWeek: 'Status of each pupil per week',
    asTable: 'Figures as a table',
    closedLegend: 'Grey columns: the school is closed.',
    closedToday: 'The school is closed today: closure (Grève). Nobody is absent.',
  },
  fr: {
    locale: 'fr-FR', email: 'E-mail', password: 'Mot de passe', signIn: 'Se connecter', school: 'École',
    tabs: { today: 'Aujourd’hui', figures: 'Chiffres', pupils: 'Élèves' },
    absentCaption: (a: number, n: number) => `Absents (${a}) et pas encore arrivés (${n})`,
    status: { absent: 'absent', not_yet_arrived: 'pas encore arrivé' } as Record<string, string>,
    openDays: (n: number) => `${n} jour${n > 1 ? 's' : ''} d’ouverture`,
    verdict: (s: string, p: number, o: number) => `${s}\u00a0: ${p} sur ${LANG.fr.openDays(o)}`,
    word: { present: 'présent', absent: 'absent' } as Record<string, string>,
    notCounted: 'non compté',
    weekOf: (d: string) => `semaine du ${d}`,
    periods: (name: string, p: 'week' | 'month') => `${name}, ${p === 'week' ? 'semaine par semaine' : 'mois par mois'}`,
    daysOf: (name: string) => `Journées de ${name}`,
    verdictsBy: 'Bilan par',
    open: 'ouvert',
    closure: 'Fermé : fermeture (Journée pédagogique)',
    holiday: 'Fermé : vacances (Vacances d’automne)',
    offDay: 'Fermé : pas un jour d’école',
    ruleTitle: 'Comment les présences sont comptées',
    rulePercent: 'plus de 80\u00a0%',
    period: 'Période',
    perDay: 'Présents et absents par jour',
    usersPerDay: 'État de chaque élève par jour',
    usersPerWeek: 'État de chaque élève par semaine',
    asTable: 'Les chiffres en tableau',
    closedLegend: 'Colonnes grises\u00a0: l’école est fermée.',
    closedToday: 'L’école est fermée aujourd’hui\u00a0: fermeture (Grève). Personne n’est absent.',
  },
};
type Lang = typeof LANG.en;

const shortDay = (day: string, locale: string) => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(`${day}T00:00:00Z`));
const dayMonth = (day: string, locale: string) => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', day: 'numeric', month: 'short' }).format(new Date(`${day}T00:00:00Z`));
/** Chromium and node may differ in the kind of space they put in dates and numbers. */
const plain = (text: string) => text.replace(/\s/g, ' ');

async function ready(page: Page): Promise<void> {
  await page.locator('#panel[data-ready="true"]').waitFor();
}

async function tableRows(page: Page, caption: string | RegExp): Promise<string[][]> {
  const rows = page.locator('table', { has: page.locator('caption', { hasText: caption }) }).locator('tbody tr');
  return rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim().replace(/\s/g, ' '))));
}

async function signIn(page: Page, who: { email: string; password: string }, t: Lang, asBackoffice: boolean): Promise<void> {
  await page.goto(suite.url);
  await page.getByLabel(t.email).fill(who.email);
  await page.getByLabel(t.password).fill(who.password);
  await page.getByRole('button', { name: t.signIn }).click();
  await ready(page);
  if (asBackoffice) {
    await page.getByLabel(t.school, { exact: true }).selectOption(String(school.id));
    await ready(page);
  }
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await ready(page);
}

describe.each([
  ['a school admin', 'en', false],
  ['backoffice', 'fr', true],
  ['a school admin', 'fr', false],
  ['backoffice', 'en', true],
] as const)('%s, in %s', (who, lang, asBackoffice) => {
  const t = LANG[lang];
  const name = `${who === 'backoffice' ? 'backoffice' : 'admin'}-${lang}`;
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;
  beforeAll(async () => {
    const w = await openPage(lang === 'fr' ? french : english, undefined, t.locale);
    ({ page, errors, close } = w);
    await signIn(page, asBackoffice ? backoffice : admin, t, asBackoffice);
  });
  afterAll(async () => { await close(); });

  test('Today lists who is absent or not yet arrived, as the API does, each name a link to the pupil', async () => {
    const absent = (await api(`/api/schools/${school.id}/presence/absent`)).body;
    expect(absent.counts).toMatchObject({ absent: 1, not_yet_arrived: 3 });
    const caption = t.absentCaption(1, 3);
    const rows = await tableRows(page, caption);
    expect(rows.map((r) => [r[0], r[2]])).toEqual(absent.items.map((i: any) => [i.name, t.status[i.status]]));
    expect(rows.find((r) => r[0] === 'Barbara Liskov')![3]).toMatch(/^\d\d:\d\d$/); // her check-in, school time
    const list = page.locator('table', { has: page.locator('caption', { hasText: caption }) });
    expect(await list.getByRole('link', { name: 'Edsger Dijkstra' }).getAttribute('href')).toContain(`user=${pupils.Edsger.id}`);
    expect(await accessibilityProblems(page)).toEqual([]);
    if (name === 'admin-en') await screenshot(page, 'today-absent-1280');
    await list.getByRole('link', { name: 'Edsger Dijkstra' }).click();
    await ready(page);
    expect(await page.getByRole('tab', { name: t.tabs.pupils }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('.pupil-name').textContent()).toBe('Edsger Dijkstra');
    expect(errors).toEqual([]);
  });

  test("the pupil's page: verdicts per week and per month with their counts, and days that say why they are closed, as the history answers", async () => {
    const from = addDays(today, -13);
    await page.goto(`${suite.url}/#pupils?user=${pupils.Grace.id}&from=${from}&to=${today}${asBackoffice ? `&school=${school.id}` : ''}`);
    await page.locator('table caption', { hasText: t.periods('Grace Hopper', 'week') }).waitFor();
    const hist = (await api(`/api/users/${pupils.Grace.id}/history?from=${from}&to=${today}&period=week`)).body;
    // Column 1 is the attendance rate (issue #28); the verdict and its counts beside it.
    const weekRows = await tableRows(page, t.periods('Grace Hopper', 'week'));
    expect(weekRows.every((r) => /\d|—/.test(r[1]))).toBe(true);
    const weeks = weekRows.map((r) => [r[0], ...r.slice(2)]);
    expect(weeks).toEqual(hist.periods.map((p: any) => [
      plain(t.weekOf(dayMonth(p.start, t.locale))), p.status ? t.word[p.status] : t.notCounted,
      p.status ? plain(`${p.days_present} ${lang === 'en' ? 'of' : 'sur'} ${t.openDays(p.open_days)}`) : '—',
    ]));
    // The counts on hover (title) and on keyboard focus (drawn from data-tip by CSS).
    const first = page.locator('.periods .verdict').first();
    const p0 = hist.periods.find((p: any) => p.status);
    const sentence = t.verdict(t.word[p0.status], p0.days_present, p0.open_days);
    expect(plain((await first.getAttribute('title'))!)).toBe(plain(sentence));
    await page.getByLabel(t.verdictsBy).focus();
    await page.keyboard.press('Tab'); // the Show button
    for (let i = 0; i < 10 && !(await first.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    expect(await first.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(plain(await first.evaluate((el) => getComputedStyle(el, '::after').content))).toBe(plain(JSON.stringify(sentence)));

    // Days, newest first: closed ones say why and are shaded, the verdicts are the API's.
    const days = await tableRows(page, t.daysOf('Grace Hopper'));
    const shown = hist.days.filter((d: any) => d.date <= hist.today).reverse();
    expect(days.map((r) => r[0])).toEqual(shown.map((d: any) => plain(shortDay(d.date, t.locale))));
    const byDate = Object.fromEntries(shown.map((d: any, i: number) => [d.date, days[i]]));
    expect(byDate[closure].slice(1, 3)).toEqual([t.closure, t.notCounted]);
    expect(byDate[holiday[0]][1]).toBe(t.holiday);
    expect(byDate[offDay].slice(1, 3)).toEqual([t.offDay, t.word.present]); // she came to school on a day it was closed
    expect(byDate[addDays(today, -1)].slice(1, 3)).toEqual([t.open, t.word.present]);
    const closedRows = await page.locator('.pupil-days tbody tr.closed').count();
    expect(closedRows).toBe(shown.filter((d: any) => !d.open).length);
    const summary = plain((await page.locator('.history-summary').textContent())!);
    expect(summary).toContain(String(hist.summary.open_days));
    // Three days ago and a week before it, the same weekday: not a school day, and she came both times.
    expect(hist.summary.closed_days_attended).toBe(2);
    expect(summary).toContain(lang === 'en' ? 'Came on 2 closed days.' : 'Venu 2 jours de fermeture.');

    // The rule in force, in the page's language, with its numbers.
    const rule = page.locator('.rule');
    expect(await rule.locator('h3').textContent()).toBe(t.ruleTitle);
    expect(plain((await rule.textContent())!)).toContain(plain(t.rulePercent));

    // By month: the choice goes to the URL, the table follows the API.
    await page.getByLabel(t.verdictsBy).selectOption('month');
    await page.locator('table caption', { hasText: t.periods('Grace Hopper', 'month') }).waitFor();
    expect(page.url()).toContain('period=month');
    const monthly = (await api(`/api/users/${pupils.Grace.id}/history?from=${from}&to=${today}&period=month`)).body;
    const months = await tableRows(page, t.periods('Grace Hopper', 'month'));
    expect(months.map((r) => r[2])).toEqual(monthly.periods.map((p: any) => (p.status ? t.word[p.status] : t.notCounted)));
    expect(await accessibilityProblems(page)).toEqual([]);
    if (lang === 'en' && !asBackoffice) await screenshot(page, 'pupil-verdicts-1280');
    if (lang === 'fr' && asBackoffice) await screenshot(page, 'pupil-verdicts-fr-1280');
    expect(errors).toEqual([]);
  });

  test('Figures: closed days shaded and explained, verdict counts in the table, on hover and on focus, the rule in force', async () => {
    const from = addDays(today, -13);
    await page.goto(`${suite.url}/#figures?period=day&from=${from}&to=${today}${asBackoffice ? `&school=${school.id}` : ''}`);
    await page.locator('table caption', { hasText: t.usersPerDay }).waitFor({ state: 'attached' });
    await page.getByText(t.asTable).click();
    const figures = (await api(`/api/attendances/aggregate/school/${school.id}?period=day&from=${from}&to=${today}&include=users`)).body;
    const rows = await tableRows(page, t.perDay);
    const at = (d: string) => rows[figures.buckets.findIndex((b: any) => b.start === d)];
    // Columns: period, rate, present, absent, total, late, excused, status, days counted.
    expect(at(closure)[8]).toBe(t.closure);
    expect(at(holiday[1])[8]).toBe(t.holiday);
    expect(at(offDay)[8]).toBe(t.offDay);
    expect(at(addDays(today, -1))[8]).toBe(t.open);
    expect(await page.locator('.buckets tbody tr.closed').count()).toBe(figures.buckets.filter((b: any) => b.school_day === false).length);
    // The chart's legend has values before any hover, and says what the grey columns are.
    const last = figures.buckets[figures.buckets.length - 1];
    expect((await page.locator('.chart .u-legend .u-value').allTextContents()).slice(1)).toEqual([String(last.present), String(last.absent)]);
    expect(await page.locator('.closed-legend').textContent()).toBe(t.closedLegend);
    expect(await page.locator('.closed-legend').isVisible()).toBe(true);
    // Each pupil by day: a closed day's column is shaded with its reason; Grace, who came, is present on it.
    const users = page.locator('table', { has: page.locator('caption', { hasText: t.usersPerDay }) });
    const col = figures.buckets.findIndex((b: any) => b.start === offDay);
    expect(plain((await users.locator('thead th').nth(col + 2).getAttribute('title'))!)).toContain(t.offDay);
    expect(await users.locator('thead th').nth(col + 2).getAttribute('class')).toBe('closed');
    const graceRow = users.locator('tbody tr', { hasText: 'Grace Hopper' });
    expect((await graceRow.locator('td').nth(col + 1).textContent())).toBe('P');
    expect(await users.locator('tbody tr', { hasText: 'Alan Turing' }).locator('td').nth(col + 1).getAttribute('class')).toBe('none closed');
    await page.getByText(t.ruleTitle).waitFor();
    if (name === 'admin-en') await screenshot(page, 'figures-closed-1280');

    // By week: every verdict shows its counts ("4/5"), says them on hover, and on keyboard focus; arrows move between them.
    await page.getByLabel(t.period, { exact: true }).selectOption('week');
    await page.locator('table caption', { hasText: t.usersPerWeek }).waitFor({ state: 'attached' });
    const weekFrom = await page.locator('input[type="date"]').first().inputValue();
    const byWeek = (await api(`/api/attendances/aggregate/school/${school.id}?period=week&from=${weekFrom}&to=${today}&include=users`)).body;
    const ada = byWeek.users.find((u: any) => u.name === 'Ada Lovelace');
    const adaRow = (await tableRows(page, t.usersPerWeek)).find((r) => r[0] === 'Ada Lovelace')!;
    expect(adaRow.slice(2)).toEqual(ada.statuses.map((s: string | null, i: number) => (s ? `${s === 'present' ? 'P' : 'A'} ${ada.counts[i].days_present}/${ada.counts[i].open_days}` : '–')));
    const firstVerdict = page.locator('.users .verdict').first();
    const u0 = byWeek.users[0];
    const i0 = u0.statuses.findIndex((s: string | null) => s);
    const expected = t.verdict(t.word[u0.statuses[i0]], u0.counts[i0].days_present, u0.counts[i0].open_days);
    expect(plain((await firstVerdict.getAttribute('title'))!)).toBe(plain(expected));
    expect(await page.locator('.users .verdict[tabindex="0"]').count()).toBe(1); // one tab stop for the whole table
    await page.locator('.users input[type="search"]').focus();
    for (let i = 0; i < 40 && !(await firstVerdict.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
    expect(plain(await firstVerdict.evaluate((el) => getComputedStyle(el, '::after').content))).toBe(plain(JSON.stringify(expected)));
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => ({ row: document.activeElement?.closest('tr')?.querySelector('th')?.textContent, tip: document.activeElement?.getAttribute('data-tip') }));
    expect(focused.row).toBe(byWeek.users[1].name);
    expect(focused.tip).toBeTruthy();
    // The week's row in the figures table says how many days it counted and which were closed.
    const weekRows = await tableRows(page, /per week|par semaine/);
    const wIndex = byWeek.buckets.findIndex((b: any) => b.start <= closure && closure <= b.end);
    expect(weekRows[wIndex][8]).toContain(String(byWeek.buckets[wIndex].open_days));
    expect(weekRows[wIndex][8]).toContain('Journée pédagogique');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe('on paper, and on a closed day', () => {
  test("the pupil's page prints its verdicts and days, without controls", async () => {
    const paper = await openPage(english, { width: 704, height: 1000 });
    try {
      const { page } = paper;
      await signIn(page, admin, LANG.en, false);
      await page.goto(`${suite.url}/#pupils?user=${pupils.Alan.id}&from=${addDays(today, -13)}&to=${today}&period=week`);
      await page.locator('table caption', { hasText: 'Alan Turing, week by week' }).waitFor();
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('button:visible, input:visible, select:visible').count()).toBe(0);
      expect(await page.locator('.print-title').textContent()).toBe('Lycée Voltaire — Pupils');
      expect(await page.locator('table', { has: page.locator('caption', { hasText: 'Alan Turing, week by week' }) }).isVisible()).toBe(true);
      expect(await page.locator('table', { has: page.locator('caption', { hasText: 'Days of Alan Turing' }) }).isVisible()).toBe(true);
      expect(await page.locator('.rule').isVisible()).toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(704);
      await screenshot(page, 'pupil-print');
      expect(paper.errors).toEqual([]);
    } finally {
      await paper.close();
    }
  });

  test('a closure today: Today says the school is closed and why, and lists nobody', async () => {
    const made = await http(suite.url, 'POST', `/api/schools/${school.id}/calendar/entries`, { token, body: { kind: 'closure', label: 'Grève', starts_on: today, ends_on: today } });
    expect(made.status).toBe(201);
    try {
      for (const [browser, t] of [[english, LANG.en], [french, LANG.fr]] as const) {
        const w = await openPage(browser, undefined, t.locale);
        try {
          await signIn(w.page, admin, t, false);
          expect(await w.page.locator('.closed-note').textContent()).toBe(t.closedToday);
          // A closed day waits for nothing: no "may still change" above it (issue #29 item 7).
          expect(await w.page.locator('.finality').count()).toBe(0);
          expect(await w.page.locator('.absent-today').isVisible()).toBe(false);
          expect(await accessibilityProblems(w.page)).toEqual([]);
          expect(w.errors).toEqual([]);
        } finally {
          await w.close();
        }
      }
    } finally {
      await http(suite.url, 'DELETE', `/api/schools/${school.id}/calendar/entries/${made.body.id}`, { token });
    }
  });
});

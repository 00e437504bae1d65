// The dashboard in a real Chromium, against the real api and worker: a school admin signs in
// and sees the same figures the API answers, switches period, searches and downloads the CSV,
// is told when the session expires or a request fails, sees a user's attendances with the
// photo a device took; a backoffice user sets and cancels a
// flag, starts a rebuild and follows it, resets a stuck device from the attention list, and
// starts a data mart run and reads its detail.
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { png } from '../channels/helpers.js';
import { createRun } from '../../db/repositories/datamart-runs.js';
import { escapeFormulaCell } from '../../shared/csv/formula-escape.js';
import english from '../../web/src/locales/en.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off' } });
let browser: Browser;
let school: Awaited<ReturnType<typeof aSchool>>;
let admin: { email: string; password: string };
let backoffice: { email: string; password: string };
let apiToken: string;
let users: Array<Awaited<ReturnType<typeof aUser>>>;
let terminal: TestDevice;
let silentDevice: Awaited<ReturnType<typeof aDevice>>;

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
// The two schools read "today" and "N minutes ago": they sit where it is now mid-day, so no
// local midnight falls between a now-relative check-in and the day it is counted on.
const CLOCK = schoolClock();
const today = () => CLOCK.today;
const todayIn = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

/** Three weeks of check-ins for most pupils, someone in right now, and a fever today. */
async function seed(): Promise<void> {
  // Open every day: today is never a closed day (where Today names no pending device), whatever the date.
  school = await aSchool(suite.db, { name: 'Lincoln Primary', timezone: CLOCK.timezone, school_days: EVERY_DAY });
  const enrolled = addDays(today(), -60);
  users = [];
  for (const name of ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Frances Allen', 'Ken Thompson']) {
    users.push(await aUser(suite.db, school.id, { name, enrolled_on: enrolled }));
  }
  admin = await aStaff(suite.db, 'school_admin', school.id);
  backoffice = await aStaff(suite.db, 'backoffice');
  apiToken = await loginAs(suite.url, admin);
  terminal = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  await suite.db.updateTable('devices').set({ name: 'Front door terminal' }).where('id', '=', terminal.identity.id).execute();
  silentDevice = await aDevice(suite.db, school.id);
  await suite.db.updateTable('devices').set({ name: 'Gym tablet' }).where('id', '=', silentDevice.id).execute();

  const rows: CsvAttendance[] = [];
  let record = 0;
  for (let k = 21; k >= 1; k--) {
    const arrival = CLOCK.at(-k, '08:00');
    users.forEach((u, i) => {
      if ((i + k) % 4 === 0) return; // absent now and then
      const hours = (i + k) % 5 === 0 ? 3 : 7; // some short days count as absent
      rows.push({ record_id: ++record, user_id: u.id, type: 'checkin', occurred_at: iso(arrival) });
      rows.push({ record_id: ++record, user_id: u.id, type: 'checkout', occurred_at: iso(arrival + hours * 3600_000) });
    });
  }
  const now = Date.now();
  rows.push({ record_id: ++record, user_id: users[0].id, type: 'checkin', occurred_at: iso(now - 20 * 60_000) });
  rows.push({ record_id: ++record, user_id: users[1].id, type: 'checkin', occurred_at: iso(now - 15 * 60_000), temperature: '38.6' });
  await terminal.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
}

beforeAll(async () => {
  // No scheduled data mart run: the data mart test decides which run is in progress.
  await seed();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const api = (path: string, token = apiToken) => http(suite.url, 'GET', path, { token });

async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto(suite.url);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await ready(page);
}

/** The current view has drawn its data (the shell marks the panel once a refresh succeeded). */
async function ready(page: Page): Promise<void> {
  await page.locator('#panel[data-ready="true"]').waitFor();
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await ready(page);
}

/** The rows of the table with this caption, as text cells. */
async function tableRows(page: Page, caption: string | RegExp): Promise<string[][]> {
  const rows = page.locator('table', { has: page.locator('caption', { hasText: caption }) }).locator('tbody tr');
  return rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
}

/** The machine-readable days (<time datetime>) of the first cell of each row of that table. */
async function tableDays(page: Page, caption: string | RegExp): Promise<string[]> {
  const rows = page.locator('table', { has: page.locator('caption', { hasText: caption }) }).locator('tbody tr');
  return rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('time')?.getAttribute('datetime') ?? ''));
}

/** A day as the dashboard writes it in a table in English (en-GB): "Thu 3 Dec". */
const shortDay = (day: string, locale = 'en-GB') => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(`${day}T00:00:00Z`));
const celsius = (t: number, locale = 'en-GB') => new Intl.NumberFormat(locale, { style: 'unit', unit: 'celsius', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(t);

/** The open confirmation dialog: its text, then the button clicked (its name). */
async function answerDialog(page: Page, button: string): Promise<string> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const text = (await dialog.textContent()) ?? '';
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  return text;
}

describe('a school admin', () => {
  let w: WatchedPage;
  beforeAll(async () => { w = await openPage(browser); });
  afterAll(async () => { await w.close(); });

  test("sees today's figures as the API answers them, and which device holds them back", async () => {
    const { page } = w;
    await signIn(page, admin);
    const day = today();
    const [figures, now, alerts, away] = await Promise.all([
      api(`/api/attendances/aggregate/school/${school.id}?period=day&from=${day}&to=${day}`),
      api(`/api/schools/${school.id}/presence/now`),
      api(`/api/alerts?school_id=${school.id}&from=${new Date(CLOCK.at(0, '00:00')).toISOString()}`),
      api(`/api/schools/${school.id}/presence/absent`),
    ]);
    const card = (id: string) => page.locator(`[data-figure="${id}"]`).textContent();
    expect(await card('present')).toBe(String(figures.body.buckets[0].present));
    // Today's own counts: absent (past late_after or day_end, or marked), not yet arrived, late (issue #28).
    expect(await card('absent')).toBe(String(away.body.counts.absent));
    expect(await card('not-yet')).toBe(String(away.body.counts.not_yet_arrived));
    expect(await card('late')).toBe(String(away.body.counts.late));
    expect(await card('now')).toBe(String(now.body.count));
    expect(await card('fever')).toBe(String(alerts.body.items.length));
    expect(now.body.count).toBeGreaterThanOrEqual(1);
    expect(alerts.body.items.length).toBeGreaterThanOrEqual(1);
    // The never-synced tablet keeps today's figure provisional, and the page names it.
    expect(figures.body.pending_devices.map((d: { name: string }) => d.name)).toContain('Gym tablet');
    await expect(page.getByText(/waiting for/).textContent()).resolves.toMatch(/may still change/);
    expect(await page.locator('.finality').textContent()).toContain('Gym tablet');
    expect(await tableRows(page, 'Fever alerts today')).toEqual([[expect.stringMatching(/^\d\d:\d\d$/), 'Alan Turing', celsius(38.6)]]);
    // The zone of the times is said, and names lead to the pupil's page.
    expect(await page.locator('.zone').textContent()).toBe(`Dates and times are the school's (${CLOCK.timezone}).`);
    const feverTable = page.locator('table', { has: page.locator('caption', { hasText: 'Fever alerts today' }) });
    expect(await feverTable.getByRole('link', { name: 'Alan Turing' }).getAttribute('href')).toBe(`#pupils?user=${users[1].id}`);
    await screenshot(page, 'overview-1280');
    expect(w.errors).toEqual([]);
  });

  test('sees the figures by day and by week match the API, searches users and downloads the CSV', async () => {
    const { page } = w;
    await openTab(page, 'Figures');
    const day = today();
    const byDay = (await api(`/api/attendances/aggregate/school/${school.id}?period=day&from=${addDays(day, -27)}&to=${day}&include=users`)).body;
    await page.getByText('Figures as a table').click();
    const shown = await tableRows(page, 'Present and absent per day');
    // Columns: period, rate, present, absent, total, late, excused, status, days counted.
    expect(shown.map((r) => [r[0], ...r.slice(2, 5)])).toEqual(byDay.buckets.map((b: any) => [shortDay(b.start), String(b.present), String(b.absent), String(b.total)]));
    expect(await tableDays(page, 'Present and absent per day')).toEqual(byDay.buckets.map((b: any) => b.start));
    expect(shown.map((r) => r[7])).toEqual(byDay.buckets.map((b: any) => (b.final ? 'final' : 'waiting')));
    expect(await page.locator('.chart canvas').count()).toBe(1);
    // Before any hover, the legend reads the latest day's figures.
    const last = byDay.buckets[byDay.buckets.length - 1];
    expect(await page.locator('.chart .u-legend .u-value').allTextContents()).toEqual([shortDay(last.start), String(last.present), String(last.absent)]);
    await screenshot(page, 'figures-1280');

    // Switching the period redraws without a page reload.
    await page.getByLabel('Period', { exact: true }).selectOption('week');
    await page.locator('table caption', { hasText: 'Present and absent per week' }).waitFor();
    // The period and range are in the URL: a reload shows the same choice.
    expect(page.url()).toContain(`#figures?period=week&from=${addDays(day, -83)}&to=${day}`);
    const byWeek = (await api(`/api/attendances/aggregate/school/${school.id}?period=week&from=${addDays(day, -83)}&to=${day}&include=users`)).body;
    const weeks = await tableRows(page, 'Present and absent per week');
    expect(weeks.map((r) => r.slice(2, 5))).toEqual(byWeek.buckets.map((b: any) => [String(b.present), String(b.absent), String(b.total)]));

    // Every user's status per week, searchable.
    const userRows = await tableRows(page, 'Status of each pupil per week');
    expect(userRows).toHaveLength(users.length);
    const ada = byWeek.users.find((u: any) => u.name === 'Ada Lovelace');
    // Each week's verdict with its counts: present days of open days.
    expect(userRows.find((r) => r[0] === 'Ada Lovelace')!.slice(2)).toEqual(ada.statuses.map((s: string | null, i: number) =>
      (s ? `${s === 'present' ? 'P' : 'A'} ${ada.counts[i].days_present}/${ada.counts[i].open_days}` : '–')));
    await page.getByLabel('Search pupils').fill('hopper');
    await expect(tableRows(page, 'Status of each pupil per week').then((r) => r.map((x) => x[0]))).resolves.toEqual(['Grace Hopper']);
    await page.getByLabel('Search pupils').fill('');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.users').getByRole('button', { name: 'Download CSV' }).click()]);
    // Written by the api in the page's language (English here: ",", a byte order mark for Excel).
    expect(download.suggestedFilename()).toBe(`lincoln-primary-pupils-week-${addDays(day, -83)}-${day}.csv`);
    const file = await fs.readFile((await download.path())!, 'utf8');
    expect(file.startsWith('\uFEFF')).toBe(true);
    const lines = file.slice(1).trim().split('\r\n');
    expect(lines[0]).toBe(['User id', 'Name', 'Badge', ...byWeek.buckets.map((b: any) => b.start)].join(','));
    expect(lines).toHaveLength(users.length + 1);
    // The CSV keeps each week's counts and rate beside its verdict; weeks before the school's first
    // record read "no data".
    const cell = (s: string | null, i: number) => {
      if (!s) return byWeek.buckets[i].no_data ? 'no data' : '';
      const c = ada.counts[i];
      return `${s} ${c.days_present}/${c.open_days}${c.rate === null ? '' : ` (${c.rate}%)`}`;
    };
    expect(lines.find((l) => l.includes('Ada Lovelace'))).toBe([ada.user_id, ada.name, ada.badge, ...ada.statuses.map(cell)].join(','));

    // Back to days: the figures come from a 304 this time and are drawn again all the same.
    await page.getByLabel('Period', { exact: true }).selectOption('day');
    await page.locator('table caption', { hasText: 'Present and absent per day' }).waitFor();
    expect(await tableDays(page, 'Present and absent per day')).toEqual(byDay.buckets.map((b: any) => b.start));
    expect(w.errors).toEqual([]);
  });

  test('moves between tabs with the arrow keys and sees the devices with their sync health', async () => {
    const { page } = w;
    await page.getByRole('tab', { name: 'Figures' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Pupils');
    await ready(page);
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Fever alerts');
    await ready(page);
    await page.keyboard.press('ArrowRight');
    await ready(page);
    expect(await page.getByRole('tab', { name: 'Devices' }).getAttribute('aria-selected')).toBe('true');
    // A school admin has no backoffice tabs.
    expect(await page.getByRole('tab', { name: 'Flags' }).count()).toBe(0);
    expect(await page.getByRole('tab', { name: 'Data mart' }).count()).toBe(0);
    const rows = await tableRows(page, /^Devices of/);
    expect(rows).toHaveLength(2);
    const synced = rows.find((r) => r[0].startsWith('Front door terminal'))!;
    expect(synced[2]).toContain('synchro: idle');
    expect(rows.find((r) => r[0].startsWith('Gym tablet'))![2]).toBe('never synced');
    expect(w.errors).toEqual([]);
  });

  test('a failed request and an expired session say so in words; signing out clears the token', async () => {
    const { page } = w;
    await page.route('**/api/schools/*/presence/now', (route) => route.fulfill({
      status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Not ready', status: 503, code: 'not_ready', detail: 'The service is not ready yet' }),
    }));
    await page.getByRole('tab', { name: 'Today' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The service is not ready yet');
    await page.unroute('**/api/schools/*/presence/now');

    await page.evaluate(() => sessionStorage.setItem('attendance.token', 'not-a-valid-token'));
    await page.reload();
    await page.getByText('Your session has expired. Please sign in again.').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('attendance.token'))).toBeNull();

    await signIn(page, admin);
    expect(await page.evaluate(() => sessionStorage.getItem('attendance.token'))).not.toBeNull();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // The browser logs the two refused requests themselves; nothing else went wrong.
    expect(w.errors.filter((e) => !/Failed to load resource: the server responded with a status of (503|401)/.test(e))).toEqual([]);
  });

  test('at phone width (375 px) the overview fits the screen', async () => {
    const phone = await openPage(browser, { width: 375, height: 740 });
    try {
      await signIn(phone.page, admin);
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      expect(await phone.page.locator('[data-figure="present"]').isVisible()).toBe(true);
      await screenshot(phone.page, 'overview-375');
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  test("sees a user's attendances with the photo the device took beside the check-in that has one", async () => {
    // A school of its own, so that the devices, sessions and figures the other tests read stay as they are.
    const academy = await aSchool(suite.db, { name: 'Hopper Academy', timezone: CLOCK.timezone });
    const grace = await aUser(suite.db, academy.id, { name: 'Grace Hopper', enrolled_on: addDays(today(), -60) });
    const academyAdmin = await aStaff(suite.db, 'school_admin', academy.id);
    const hall = await new TestDevice(suite.url, await aDevice(suite.db, academy.id)).signIn();
    await suite.db.updateTable('devices').set({ name: 'Hall terminal' }).where('id', '=', hall.identity.id).execute();
    const now = Date.now();
    await hall.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([
      { record_id: 1, user_id: grace.id, type: 'checkin', occurred_at: iso(now - DAY - 60 * 60_000) },
      { record_id: 2, user_id: grace.id, type: 'checkin', occurred_at: iso(now - 50 * 60_000), temperature: '36.6', photo: 'grace-1.png' },
      { record_id: 3, user_id: grace.id, type: 'checkout', occurred_at: iso(now - 10 * 60_000) },
    ]) }));
    // The photo comes on its own channel, as docs/protocol/v4.md §7 has it.
    const camera = new TestDevice(suite.url, hall.identity, 'photos');
    camera.token = hall.token;
    await camera.sync(batchZip({ 'device.xml': deviceXml(), 'photos/grace-1.png': png(48, 32, 0x40) }));

    const fresh = await openPage(browser);
    try {
      const { page } = fresh;
      await signIn(page, academyAdmin);
      await openTab(page, 'Pupils');
      // Search as you type: part of the name, then the arrow key and Enter.
      await page.getByRole('combobox', { name: 'Pupil' }).fill('grac');
      await page.getByRole('option', { name: /Grace Hopper/ }).waitFor();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.locator('table caption', { hasText: 'Attendances of Grace Hopper (3)' }).waitFor();
      expect(page.url()).toContain(`user=${grace.id}`);
      const listed = (await api(`/api/attendances?user_id=${grace.id}`, await loginAs(suite.url, academyAdmin))).body.items;
      expect(listed.map((a: any) => a.photo)).toEqual([null, 'grace-1.png', null]);
      const rows = await tableRows(page, /^Attendances of Grace Hopper/);
      // Newest first.
      expect(rows.map((r) => r.slice(1, 4))).toEqual([['check-out', '—', 'Hall terminal'], ['check-in', celsius(36.6), 'Hall terminal'], ['check-in', '—', 'Hall terminal']]);
      // Her days, every day of the range newest first as the history API answers: yesterday's
      // check-in has no check-out; today she was in 40 minutes.
      const days = await tableRows(page, 'Days of Grace Hopper');
      expect(days).toHaveLength(7);
      expect(days[0][5]).toBe('40 mins');
      expect(days[1][6]).toBe('no check-out');

      // Her attendances as CSV, oldest first as the API lists them.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
      expect(download.suggestedFilename()).toBe(`hopper-academy-attendances-${grace.id}.csv`);
      const csv = (await fs.readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '').trim().split('\r\n');
      // Local times of the school, the zone named in the header.
      const local = (at: string) => new Intl.DateTimeFormat('sv-SE', { timeZone: academy.timezone, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(at));
      expect(csv).toEqual([`Time (${academy.timezone}),User id,Type,Temperature (°C),Device,Photo,Clock suspect`,
        ...listed.map((a: any) => [local(a.occurred_at), grace.id, a.type === 'checkin' ? 'check-in' : 'check-out', a.temperature ?? '', 'Hall terminal', a.photo ?? '', 'no'].join(','))]);

      // The thumbnail is drawn from an object URL of the bytes fetched with the token; rows without a photo show none.
      const table = page.locator('table', { has: page.locator('caption', { hasText: /^Attendances of Grace Hopper/ }) });
      const img = table.locator('tbody tr').nth(1).locator('img.photo-thumb');
      await img.waitFor();
      await page.waitForFunction(() => { const i = document.querySelector<HTMLImageElement>('img.photo-thumb'); return i?.complete && i.naturalWidth > 0; });
      expect(await img.evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight, i.src.startsWith('blob:'), i.alt])).toEqual([48, 32, true, expect.stringMatching(/^Photo taken at/)]);
      expect(await table.locator('img').count()).toBe(1);
      expect(await table.locator('tbody tr').nth(0).locator('img').count()).toBe(0);
      expect(await table.locator('tbody tr').nth(2).locator('img').count()).toBe(0);
      await screenshot(page, 'attendances-photo');

      // Leaving the view revokes the object URL (probed as an image: the CSP lets blob: only into img-src).
      const src = (await img.getAttribute('src'))!;
      const probe = () => page.evaluate((u) => new Promise<string>((done) => {
        const i = new Image();
        i.onload = () => done('still there');
        i.onerror = () => done('revoked');
        i.src = u;
      }), src);
      await expect(probe()).resolves.toBe('still there');
      await openTab(page, 'Devices');
      await expect(probe()).resolves.toBe('revoked');
      expect(fresh.errors.filter((e) => !/ERR_FILE_NOT_FOUND/.test(e))).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe('a backoffice user', () => {
  let w: WatchedPage;
  let boToken: string;
  beforeAll(async () => {
    w = await openPage(browser);
    boToken = await loginAs(suite.url, backoffice);
  });
  afterAll(async () => { await w.close(); });

  test('picks the school, sets a flag on a device and cancels it', async () => {
    const { page } = w;
    await signIn(page, backoffice);
    await page.getByLabel('School').selectOption(String(school.id));
    await openTab(page, 'Flags');
    await page.getByLabel('Target').selectOption({ label: 'Gym tablet' });
    await page.getByLabel('Flag', { exact: true }).selectOption('REBOOT');
    // The flag is named in words, with what it does; restarting a device asks first.
    expect(await page.locator('#flag-help').textContent()).toMatch(/^The device restarts after its next sync.*\(REBOOT\)$/);
    await page.getByRole('button', { name: 'Set flag' }).click();
    expect(await answerDialog(page, 'Set flag')).toContain('“Restart the device” on Gym tablet?');
    const cancel = page.getByRole('button', { name: 'Cancel “Restart the device” on Gym tablet' });
    await cancel.waitFor();
    const pending = await api(`/api/devices/${silentDevice.id}/flags`, boToken);
    expect(pending.body.items.map((f: any) => [f.name, f.state])).toEqual([['REBOOT', 'pending']]);
    expect((await tableRows(page, /^Flags/)).map((r) => r.slice(0, 3))).toEqual([['Gym tablet', 'Restart the device', 'pending']]);
    await screenshot(page, 'flags-backoffice');

    await cancel.click();
    await page.locator('table', { has: page.locator('caption', { hasText: /^Flags/ }) }).getByText('cancelled', { exact: true }).waitFor();
    const after = await api(`/api/devices/${silentDevice.id}/flags`, boToken);
    expect(after.body.items.map((f: any) => [f.name, f.state])).toEqual([['REBOOT', 'cancelled']]);

    // REBOOT on every device of the school says how many devices it reaches; declined, nothing is set.
    await page.getByLabel('Target').selectOption({ label: 'Every device of Lincoln Primary' });
    await page.getByRole('button', { name: 'Set flag' }).click();
    const asked = await answerDialog(page, 'Cancel');
    expect(asked).toContain('“Restart the device” on Every device of Lincoln Primary?');
    expect(asked).toContain("each of the school's 2 devices");
    const untouched = await api(`/api/devices/${terminal.identity.id}/flags`, boToken);
    expect(untouched.body.items.filter((f: any) => f.name === 'REBOOT')).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  test("reads a device's sync sessions with their counts", async () => {
    const { page } = w;
    await openTab(page, 'Sessions');
    await page.getByLabel('Device', { exact: true }).selectOption({ label: 'Front door terminal' });
    await page.locator('table', { has: page.locator('caption', { hasText: 'Latest sessions' }) }).getByText('acknowledged', { exact: true }).waitFor();
    const sessions = (await api(`/api/devices/${terminal.identity.id}/sessions`, boToken)).body.items;
    await expect(tableRows(page, 'Latest sessions').then((rows) => rows.map((r) => r.slice(1, 7)))).resolves.toEqual(sessions.map((x: any) =>
      [x.channel, x.state, String(x.counts.received), String(x.counts.accepted), String(x.counts.duplicates), String(x.counts.rejected)]));
    expect(sessions).toHaveLength(1);
    // The device's last sync, in the same words as the Devices tab.
    expect(await page.locator('.device-sync').textContent()).toMatch(/^Front door terminal: last sync .+ ago, as the Devices tab shows\./);

    // A device that synced two hours ago but has no session on record (as the demo data's) is not
    // "not synced yet" here while Devices says "2 hr ago": both read the same field.
    await suite.db.updateTable('devices').set({ last_synced_at: new Date(Date.now() - 2 * 3600_000) }).where('id', '=', silentDevice.id).execute();
    try {
      await page.getByLabel('Device', { exact: true }).selectOption({ label: 'Gym tablet' });
      await page.getByText('Gym tablet: last sync 2 hr ago, as the Devices tab shows.').waitFor();
      await page.getByText(/^No sync session of this device is on record, though it has synced/).waitFor();
      expect(await tableRows(page, 'Latest sessions')).toHaveLength(1);
      await openTab(page, 'Devices');
      const gym = (await tableRows(page, /^Devices of/)).find((r) => r[0].startsWith('Gym tablet'))!;
      expect(gym[1]).toMatch(/^2 hr ago/);
    } finally {
      await suite.db.updateTable('devices').set({ last_synced_at: null }).where('id', '=', silentDevice.id).execute();
    }

    // An app's first upload (issue 30): a header naming 6 columns over rows of 5, every row
    // refused. Its session is no plain green "acknowledged", and each rejection says what is wrong.
    const app = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
    await suite.db.updateTable('devices').set({ name: 'Kiosk tablet' }).where('id', '=', app.identity.id).execute();
    const firstTry = [1, 2, 3].map((n) => `${n},${users[n].id},checkin,${iso(Date.now() - n * 60_000)},`);
    await app.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': `record_id,user_id,type,occurred_at,temperature,photo\n${firstTry.join('\n')}\n` }));
    await openTab(page, 'Flags');
    await openTab(page, 'Sessions');
    await page.getByLabel('Device', { exact: true }).selectOption({ label: 'Kiosk tablet' });
    const refused = page.locator('table', { has: page.locator('caption', { hasText: 'Latest sessions' }) }).getByText('acknowledged, every row refused', { exact: true });
    await refused.waitFor();
    expect(await refused.getAttribute('class')).toBe('badge bad');
    expect((await tableRows(page, 'Latest sessions')).map((r) => r.slice(3, 7))).toEqual([['3', '0', '0', '3']]);
    await page.getByRole('button', { name: /^Rejections of the session received/ }).click();
    await page.locator('caption', { hasText: /^Rejections of the session received .* \(3\)$/ }).waitFor();
    expect(await tableRows(page, /^Rejections of the session/)).toEqual([2, 3, 4].map((line) =>
      ['attendances.csv', String(line), '—', 'malformed_row', 'expected 6 fields, got 5']));
    expect(w.errors).toEqual([]);
  });

  test('starts a figures rebuild and follows it to the end', async () => {
    const { page } = w;
    await openTab(page, 'Rebuild');
    await page.getByLabel('From').fill(addDays(today(), -20));
    await page.getByLabel('To').fill(today());
    await page.getByRole('button', { name: 'Start rebuild' }).click();
    await page.locator('[data-status="done"]').waitFor();
    const text = await page.locator('[data-status="done"]').textContent();
    const [, done, total] = /(\d+) of (\d+) weeks done/.exec(text!)!;
    expect(done).toBe(total);
    expect(Number(await page.locator('progress').getAttribute('max'))).toBe(Number(total));
    expect(w.errors).toEqual([]);
  });

  test('sees a stuck device in the attention list and resets its session in one click', async () => {
    const { page } = w;
    await suite.db.updateTable('sync_states').set({ status: 2, changed_at: new Date(Date.now() - 3 * 3600_000) })
      .where('device_id', '=', terminal.identity.id).execute();
    await openTab(page, 'Needs attention');
    const rows = await tableRows(page, /^Devices needing attention/);
    expect(rows.map((r) => r[0])).toEqual(['Front door terminal']);
    await screenshot(page, 'attention-backoffice');
    const reset = page.getByRole('button', { name: /^Reset the session of/ });
    expect(await reset.count()).toBe(1);
    await reset.click();
    expect(await answerDialog(page, 'Reset session')).toContain('goes back to idle now');
    await page.getByText(/Session reset on/).waitFor();
    await page.getByText('Every device is fine.').waitFor();
    const device = await api(`/api/devices/${terminal.identity.id}`, boToken);
    expect(device.body).toMatchObject({ needs_attention: false, channels: { synchro: { status: 0 } } });

    await openTab(page, 'Devices');
    await screenshot(page, 'devices-backoffice');
    expect(w.errors).toEqual([]);
  });

  test('starts a data mart run, is told when another is in progress, follows it to the end and reads its detail', async () => {
    const { page } = w;
    // A run the schedule started and that is still going: a second one is refused.
    const busy = (await createRun(suite.db, { trigger: 'schedule', requestedBy: null, status: 'running' }))!;
    await openTab(page, 'Data mart');
    expect((await tableRows(page, /^Data mart runs/)).map((r) => r.slice(0, 3))).toEqual([[`#${busy.id}`, 'schedule', 'running']]);
    await page.getByRole('button', { name: 'Start a run now' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Another data mart run is queued or running: wait for it to finish');

    await suite.db.updateTable('datamart_runs').set({ status: 'failed', error: 'stopped by the test', finished_at: new Date() }).where('id', '=', busy.id).execute();
    await page.getByRole('button', { name: 'Start a run now' }).click();
    const queued = await page.getByText(/^Run #\d+ queued\.$/).textContent();
    const runId = Number(/#(\d+)/.exec(queued!)![1]);
    // Emulation (no DATAMART_URL): the worker collects, writes the files and marks them accepted.
    const runs = page.locator('table', { has: page.locator('caption', { hasText: /^Data mart runs/ }) });
    await runs.locator('tr', { hasText: `#${runId}` }).locator('.badge', { hasText: /^done$/ }).waitFor({ timeout: 30_000 });
    const listed = await tableRows(page, /^Data mart runs/);
    expect(listed.map((r) => r.slice(0, 2))).toEqual([[`#${runId}`, 'manual'], [`#${busy.id}`, 'schedule']]);
    expect(listed[1][2]).toBe('failedstopped by the test');
    const run = (await api(`/api/datamart/runs/${runId}`, boToken)).body;
    expect(run).toMatchObject({ status: 'done' });
    expect(listed[0].slice(4, 6)).toEqual([String(run.rows_collected), String(run.rows_exported)]);
    expect(run.rows_exported).toBeGreaterThan(0);

    await page.getByRole('button', { name: `Details of run ${runId}` }).click();
    await page.locator('table caption', { hasText: `Stages of run #${runId}` }).waitFor();
    const stages = await tableRows(page, `Stages of run #${runId}`);
    expect(stages.map((r) => r.slice(0, 6))).toEqual(run.stages.map((s: any) => [String(s.seq), s.kind, s.entity, s.operation ?? '—', s.status, String(s.rows)]));
    expect(stages.every((r) => r[4] === 'done')).toBe(true);
    const uploads = await tableRows(page, `Uploads of run #${runId}`);
    expect(uploads.map((r) => [r[0], r[5]])).toEqual(run.uploads.map((u: any) => [u.file_name, 'accepted']));
    expect(uploads.length).toBeGreaterThan(0);
    await page.locator('.run-detail details summary').first().click();
    await expect(page.locator('.run-detail details[open] li').first().textContent()).resolves.toMatch(/^#1 done \d+ rows$/);
    await screenshot(page, 'datamart-backoffice');
    // The browser logs the refused request itself; nothing else went wrong.
    expect(w.errors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });
});

describe('in French, on paper, on a phone, and for every reader', () => {
  test('follows the browser language (French), switches to English and remembers it', async () => {
    // A French browser: its language, and its native controls in French.
    const french = await launchBrowser('fr-FR');
    const fr = await openPage(french, undefined, 'fr-FR');
    try {
      const { page } = fr;
      await page.goto(suite.url);
      await page.getByLabel('E-mail').fill(admin.email);
      await page.getByLabel('Mot de passe').fill(admin.password);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await ready(page);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('fr');
      expect(await page.getByRole('tab', { name: 'Aujourd’hui' }).getAttribute('aria-selected')).toBe('true');
      expect(await page.locator('#present-label').textContent()).toBe('Présents');
      expect(await page.locator('.zone').textContent()).toBe(`Dates et heures de l’école (${CLOCK.timezone}).`);
      // Numbers through Intl: a decimal comma and a space before the unit.
      expect((await tableRows(page, 'Alertes fièvre du jour'))[0].slice(1)).toEqual(['Alan Turing', celsius(38.6, 'fr-FR')]);
      expect(celsius(38.6, 'fr-FR')).toMatch(/^38,6\s°C$/);
      expect(await accessibilityProblems(page)).toEqual([]);

      await openTab(page, 'Chiffres');
      await page.getByLabel('Période', { exact: true }).selectOption('month');
      await page.locator('table caption', { hasText: 'Présents et absents par mois' }).waitFor({ state: 'attached' });
      const months = await tableDays(page, 'Présents et absents par mois');
      const firstMonth = new Intl.DateTimeFormat('fr-FR', { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(new Date(`${months[0]}T00:00:00Z`));
      expect((await tableRows(page, 'Présents et absents par mois'))[0][0]).toBe(firstMonth);
      const zoneSuffix = `, heure de l’école (${CLOCK.timezone})`;
      expect((await page.locator('.range-summary').textContent())!.slice(-zoneSuffix.length)).toBe(zoneSuffix);
      await screenshot(page, 'figures-fr-1280');

      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('tab', { name: 'Figures' }).waitFor();
      await ready(page);
      // Same view, same period, now in English.
      expect(await page.getByRole('tab', { name: 'Figures' }).getAttribute('aria-selected')).toBe('true');
      expect(await page.getByLabel('Period', { exact: true }).inputValue()).toBe('month');
      expect(await page.evaluate(() => localStorage.getItem('attendance.lang'))).toBe('en');
      await page.reload();
      await ready(page);
      expect(await page.getByRole('tab', { name: 'Today' }).count()).toBe(1);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
      expect(fr.errors).toEqual([]);
    } finally {
      await fr.close();
      await french.close();
    }
  });

  test('no view has a serious or critical accessibility violation (axe-core), nor the sign-in form, the picker or a confirmation', async () => {
    const a11y = await openPage(browser);
    try {
      const { page } = a11y;
      await page.goto(suite.url);
      await page.getByLabel('Email').waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      await signIn(page, backoffice);
      await page.getByLabel('School').selectOption(String(school.id));
      await ready(page);
      const found: Record<string, string[]> = {};
      for (const tab of ['Today', 'Figures', 'Pupils', 'Fever alerts', 'Devices', 'Held punches', 'Needs attention', 'Flags', 'Sessions', 'Rebuild', 'Data mart']) {
        await openTab(page, tab);
        if (tab === 'Figures') await page.getByText('Figures as a table').click();
        const problems = await accessibilityProblems(page);
        if (problems.length) found[tab] = problems;
      }
      // The pupil picker with its list open, and a confirmation dialog.
      await openTab(page, 'Pupils');
      await page.getByRole('combobox', { name: 'Pupil' }).fill('a');
      await page.getByRole('listbox').getByRole('option').first().waitFor();
      const picker = await accessibilityProblems(page);
      if (picker.length) found['pupil picker'] = picker;
      await openTab(page, 'Flags');
      await page.getByLabel('Flag', { exact: true }).selectOption('REBOOT');
      await page.getByRole('button', { name: 'Set flag' }).click();
      await page.getByRole('dialog').waitFor();
      const dialog = await accessibilityProblems(page);
      if (dialog.length) found['confirmation'] = dialog;
      await answerDialog(page, 'Cancel');
      expect(found).toEqual({});
      expect(a11y.errors).toEqual([]);
    } finally {
      await a11y.close();
    }
  });

  test('the chosen period survives a tab switch and a reload, and a name in Figures opens the pupil', async () => {
    const w = await openPage(browser);
    try {
      const { page } = w;
      await signIn(page, admin);
      await openTab(page, 'Figures');
      await page.getByLabel('Period', { exact: true }).selectOption('week');
      await page.locator('table caption', { hasText: 'Present and absent per week' }).waitFor({ state: 'attached' });
      const from = await page.getByLabel('From').inputValue();
      await openTab(page, 'Fever alerts');
      expect(await page.getByLabel('From').inputValue()).toBe(from);
      await openTab(page, 'Figures');
      expect(await page.getByLabel('Period', { exact: true }).inputValue()).toBe('week');
      await page.reload();
      await ready(page);
      expect(await page.getByLabel('Period', { exact: true }).inputValue()).toBe('week');
      expect(await page.getByLabel('From').inputValue()).toBe(from);

      await page.locator('.users').getByRole('link', { name: 'Grace Hopper' }).click();
      await ready(page);
      expect(await page.getByRole('tab', { name: 'Pupils' }).getAttribute('aria-selected')).toBe('true');
      expect(await page.locator('.pupil-name').textContent()).toBe('Grace Hopper');
      expect(await page.getByRole('combobox', { name: 'Pupil' }).inputValue()).toBe('Grace Hopper');
      // The range came along: the pupil's page covers the weeks chosen on Figures.
      expect(await page.getByLabel('From').inputValue()).toBe(from);
      const grace = users.find((u) => u.name === 'Grace Hopper')!;
      const listed = await api(`/api/attendances?user_id=${grace.id}&from=${from}T00:00:00Z&limit=500`);
      await page.locator('table caption', { hasText: `Attendances of Grace Hopper (${listed.body.items.length})` }).waitFor();
      await screenshot(page, 'pupil-1280');
      // Back goes back to Figures.
      await page.goBack();
      await ready(page);
      expect(await page.getByRole('tab', { name: 'Figures' }).getAttribute('aria-selected')).toBe('true');
      expect(w.errors).toEqual([]);
    } finally {
      await w.close();
    }
  });

  test('prints the figures on A4: the school and period in a header, the chart and table, no tabs or buttons', async () => {
    // A4 at 96 dpi less 12 mm margins each side: 794 − 2 × 45 px.
    const paper = await openPage(browser, { width: 704, height: 1000 });
    try {
      const { page } = paper;
      await signIn(page, admin);
      const day = today();
      await page.goto(`${suite.url}/#figures?period=week&from=${addDays(day, -27)}&to=${day}`);
      await ready(page);
      await page.emulateMedia({ media: 'print' });
      expect(await page.getByRole('tablist').isVisible()).toBe(false);
      expect(await page.locator('button:visible').count()).toBe(0);
      expect(await page.locator('input:visible, select:visible').count()).toBe(0);
      expect(await page.locator('.print-title').textContent()).toBe('Lincoln Primary — Figures');
      const fmt = (d: string) => new Date(`${d}T00:00:00Z`);
      // (Chromium and node may space the en dash differently: compared with plain spaces.)
      const plain = (text: string | null) => (text ?? '').replace(/\s/g, ' ');
      expect(plain(await page.locator('.print-period').textContent()))
        .toBe(plain(`By week, ${new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'medium' }).formatRange(fmt(addDays(day, -27)), fmt(day))}`));
      expect(await page.locator('table', { has: page.locator('caption', { hasText: 'Present and absent per week' }) }).isVisible()).toBe(true);
      const chart = await page.locator('.chart canvas').boundingBox();
      expect(chart!.width).toBeGreaterThan(300);
      expect(chart!.x + chart!.width).toBeLessThanOrEqual(704);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(704);
      await screenshot(page, 'figures-print');
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(paper.errors).toEqual([]);
    } finally {
      await paper.close();
    }
  });

  test('at 375 px every tab is in sight (the bar wraps) and a 13-day clock skew reads in days and hours', async () => {
    const phone = await openPage(browser, { width: 375, height: 740 });
    const skewed = -(13 * 86_400 + 7 * 3600 + 20 * 60); // "−19160 min" before
    await suite.db.updateTable('devices').set({ clock_skew_seconds: skewed }).where('id', '=', silentDevice.id).execute();
    try {
      const { page } = phone;
      await signIn(page, backoffice);
      await page.getByLabel('School').selectOption(String(school.id));
      await ready(page);
      const tabs = await page.getByRole('tab').evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return { name: e.textContent?.trim(), left: r.left, right: r.right, shown: r.width > 0 }; }));
      expect(tabs.map((t) => t.name).sort()).toEqual(Object.values(english.messages.tabs).sort()); // backoffice sees every tab
      for (const t of tabs) expect(t.shown && t.left >= 0 && t.right <= 375).toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await screenshot(page, 'tabs-375');

      await openTab(page, 'Devices');
      const gym = (await tableRows(page, /^Devices of/)).find((r) => r[0].startsWith('Gym tablet'))!;
      expect(gym[3]).toBe('\u221213 days 7 hrs');
      expect(await page.locator('.devices span[title^="The device clock"]').first().getAttribute('title')).toBe("The device clock is 13 days 7 hrs behind the server's.");
      expect(phone.errors).toEqual([]);
    } finally {
      await suite.db.updateTable('devices').set({ clock_skew_seconds: null }).where('id', '=', silentDevice.id).execute();
      await phone.close();
    }
  });

  test('CSV of the fever alerts and of the figures table neutralise a name a spreadsheet would run, as the server does', async () => {
    const other = await aSchool(suite.db, { name: 'École Formule', timezone: 'Europe/Paris' });
    const name = '=HYPERLINK("http://evil.example","click")';
    const pupil = await aUser(suite.db, other.id, { name, enrolled_on: addDays(today(), -10) });
    const otherAdmin = await aStaff(suite.db, 'school_admin', other.id);
    const device = await new TestDevice(suite.url, await aDevice(suite.db, other.id)).signIn();
    await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv([
      { record_id: 1, user_id: pupil.id, type: 'checkin', occurred_at: iso(Date.now() - 30 * 60_000), temperature: '39.1' },
    ]) }));
    const w = await openPage(browser);
    try {
      const { page } = w;
      await signIn(page, otherAdmin);
      await openTab(page, 'Fever alerts');
      await page.locator('table caption', { hasText: 'Fever alerts (1)' }).waitFor();
      expect(await page.locator('.zone').textContent()).toBe("Dates and times are the school's (Europe/Paris).");
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
      expect(download.suggestedFilename()).toMatch(/^ecole-formule-fever-alerts-/);
      const lines = (await fs.readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '').trim().split('\r\n');
      expect(lines[0]).toBe('Time (Europe/Paris),User id,Name,Temperature (°C),Source,Device');
      const quoted = `"${escapeFormulaCell(name).replace(/"/g, '""')}"`;
      expect(quoted.startsWith(`"'=HYPERLINK`)).toBe(true);
      expect(lines[1]).toMatch(new RegExp(`^[^,]+,${pupil.id},${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},39\\.1,check-in,`));

      await openTab(page, 'Figures');
      await page.getByText('Figures as a table').click();
      const [figures] = await Promise.all([page.waitForEvent('download'), page.locator('details.numbers').getByRole('button', { name: 'Download CSV' }).click()]);
      const rows = (await fs.readFile((await figures.path())!, 'utf8')).replace(/^\uFEFF/, '').trim().split('\r\n');
      expect(rows[0]).toBe('Period start,Period end,Attendance rate,Present,Absent,Total,Late days,Excused days,No data yet,Open days,Closed days,Final');
      // The range chosen on Fever alerts (its default, the last 7 days) came along to Figures.
      expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(Array.from({ length: 7 }, (_, i) => addDays(todayIn('Europe/Paris'), i - 6)));
      expect(w.errors).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

// The dashboard in a real Chromium, against the real api and worker: a school admin signs in
// and sees the same figures the API answers, switches period, searches and downloads the CSV,
// is told when the session expires or a request fails, sees a user's attendances with the
// photo a device took; a backoffice user sets and cancels a
// flag, starts a rebuild and follows it, resets a stuck device from the attention list, and
// starts a data mart run and reads its detail.
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage, screenshot, type WatchedPage } from '../support/browser.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { png } from '../channels/helpers.js';
import { createRun } from '../../db/repositories/datamart-runs.js';
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
const today = () => new Date().toISOString().slice(0, 10);
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

/** Three weeks of check-ins for most pupils, someone in right now, and a fever today. */
async function seed(): Promise<void> {
  school = await aSchool(suite.db, { name: 'Lincoln Primary', timezone: 'UTC' });
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
  const startOfToday = Date.parse(`${today()}T00:00:00Z`);
  for (let k = 21; k >= 1; k--) {
    const dayStart = startOfToday - k * DAY;
    users.forEach((u, i) => {
      if ((i + k) % 4 === 0) return; // absent now and then
      const hours = (i + k) % 5 === 0 ? 3 : 7; // some short days count as absent
      rows.push({ record_id: ++record, user_id: u.id, type: 'checkin', occurred_at: iso(dayStart + 8 * 3600_000) });
      rows.push({ record_id: ++record, user_id: u.id, type: 'checkout', occurred_at: iso(dayStart + (8 + hours) * 3600_000) });
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

describe('a school admin', () => {
  let w: WatchedPage;
  beforeAll(async () => { w = await openPage(browser); });
  afterAll(async () => { await w.close(); });

  test("sees today's figures as the API answers them, and which device holds them back", async () => {
    const { page } = w;
    await signIn(page, admin);
    const day = today();
    const [figures, now, alerts] = await Promise.all([
      api(`/api/attendances/aggregate/school/${school.id}?period=day&from=${day}&to=${day}`),
      api(`/api/schools/${school.id}/presence/now`),
      api(`/api/alerts?school_id=${school.id}&from=${day}T00:00:00Z`),
    ]);
    const card = (id: string) => page.locator(`[data-figure="${id}"]`).textContent();
    expect(await card('present')).toBe(String(figures.body.buckets[0].present));
    expect(await card('absent')).toBe(String(figures.body.buckets[0].absent));
    expect(await card('now')).toBe(String(now.body.count));
    expect(await card('fever')).toBe(String(alerts.body.items.length));
    expect(now.body.count).toBeGreaterThanOrEqual(1);
    expect(alerts.body.items.length).toBeGreaterThanOrEqual(1);
    // The never-synced tablet keeps today's figure provisional, and the page names it.
    expect(figures.body.pending_devices.map((d: { name: string }) => d.name)).toContain('Gym tablet');
    await expect(page.getByText(/waiting for/).textContent()).resolves.toMatch(/may still change/);
    expect(await page.locator('.finality').textContent()).toContain('Gym tablet');
    expect(await tableRows(page, 'Fever alerts today')).toEqual([[expect.stringMatching(/^\d\d:\d\d$/), 'Alan Turing', '38.6 °C']]);
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
    expect(shown.map((r) => r.slice(0, 4))).toEqual(byDay.buckets.map((b: any) => [b.start, String(b.present), String(b.absent), String(b.total)]));
    expect(shown.map((r) => r[4])).toEqual(byDay.buckets.map((b: any) => (b.final ? 'final' : 'waiting')));
    expect(await page.locator('.chart canvas').count()).toBe(1);
    await screenshot(page, 'figures-1280');

    // Switching the period redraws without a page reload.
    await page.getByLabel('Period', { exact: true }).selectOption('week');
    await page.locator('table caption', { hasText: 'Present and absent per week' }).waitFor();
    const byWeek = (await api(`/api/attendances/aggregate/school/${school.id}?period=week&from=${addDays(day, -83)}&to=${day}&include=users`)).body;
    const weeks = await tableRows(page, 'Present and absent per week');
    expect(weeks.map((r) => r.slice(1, 4))).toEqual(byWeek.buckets.map((b: any) => [String(b.present), String(b.absent), String(b.total)]));

    // Every user's status per week, searchable.
    const userRows = await tableRows(page, 'Status of each user per week');
    expect(userRows).toHaveLength(users.length);
    const ada = byWeek.users.find((u: any) => u.name === 'Ada Lovelace');
    expect(userRows.find((r) => r[0] === 'Ada Lovelace')!.slice(2)).toEqual(ada.statuses.map((s: string | null) => (s === 'present' ? 'P' : s === 'absent' ? 'A' : '–')));
    await page.getByLabel('Search users').fill('hopper');
    await expect(tableRows(page, 'Status of each user per week').then((r) => r.map((x) => x[0]))).resolves.toEqual(['Grace Hopper']);
    await page.getByLabel('Search users').fill('');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`lincoln-primary-week-${addDays(day, -83)}-${day}.csv`);
    const lines = (await fs.readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    expect(lines[0]).toBe(['user_id', 'name', 'badge', ...byWeek.buckets.map((b: any) => b.start)].join(','));
    expect(lines).toHaveLength(users.length + 1);
    expect(lines.find((l) => l.includes('Ada Lovelace'))).toBe([ada.user_id, ada.name, ada.badge, ...ada.statuses.map((s: string | null) => s ?? '')].join(','));

    // Back to days: the figures come from a 304 this time and are drawn again all the same.
    await page.getByLabel('Period', { exact: true }).selectOption('day');
    await page.locator('table caption', { hasText: 'Present and absent per day' }).waitFor();
    expect((await tableRows(page, 'Present and absent per day')).map((r) => r[0])).toEqual(byDay.buckets.map((b: any) => b.start));
    expect(w.errors).toEqual([]);
  });

  test('moves between tabs with the arrow keys and sees the devices with their sync health', async () => {
    const { page } = w;
    await page.getByRole('tab', { name: 'Figures' }).focus();
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
    const academy = await aSchool(suite.db, { name: 'Hopper Academy', timezone: 'UTC' });
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
    // The photo comes on its own channel, as PROTOCOL.md §7 has it.
    const camera = new TestDevice(suite.url, hall.identity, 'photos');
    camera.token = hall.token;
    await camera.sync(batchZip({ 'device.xml': deviceXml(), 'photos/grace-1.png': png(48, 32, 0x40) }));

    const fresh = await openPage(browser);
    try {
      const { page } = fresh;
      await signIn(page, academyAdmin);
      await openTab(page, 'Attendances');
      await page.getByLabel('User').selectOption(String(grace.id));
      await page.locator('table caption', { hasText: 'Attendances of Grace Hopper (3)' }).waitFor();
      const listed = (await api(`/api/attendances?user_id=${grace.id}`, await loginAs(suite.url, academyAdmin))).body.items;
      expect(listed.map((a: any) => a.photo)).toEqual([null, 'grace-1.png', null]);
      const rows = await tableRows(page, /^Attendances of Grace Hopper/);
      // Newest first.
      expect(rows.map((r) => r.slice(1, 4))).toEqual([['check-out', '—', 'Hall terminal'], ['check-in', '36.6 °C', 'Hall terminal'], ['check-in', '—', 'Hall terminal']]);

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
    await page.getByRole('button', { name: 'Set flag' }).click();
    const cancel = page.getByRole('button', { name: 'Cancel REBOOT on Gym tablet' });
    await cancel.waitFor();
    const pending = await api(`/api/devices/${silentDevice.id}/flags`, boToken);
    expect(pending.body.items.map((f: any) => [f.name, f.state])).toEqual([['REBOOT', 'pending']]);
    expect((await tableRows(page, /^Flags/)).map((r) => r.slice(0, 3))).toEqual([['Gym tablet', 'REBOOT', 'pending']]);
    await screenshot(page, 'flags-backoffice');

    await cancel.click();
    await page.locator('table', { has: page.locator('caption', { hasText: /^Flags/ }) }).getByText('cancelled', { exact: true }).waitFor();
    const after = await api(`/api/devices/${silentDevice.id}/flags`, boToken);
    expect(after.body.items.map((f: any) => [f.name, f.state])).toEqual([['REBOOT', 'cancelled']]);
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

// The reference app for schools (app/, issue 30) in a real Chromium against the real api and
// worker: a school admin registers a device in the dashboard and its QR code (decoded here with
// jsQR from the pixels the page drew) enrols the app; offline, a teacher takes a roll call and
// pupils check in and out at the kiosk; the page is reloaded offline and still opens (its
// service worker); back online, the marks and check-ins reach the server, the dashboard and the
// figures exactly once, even after sending again. At 375 px nothing overflows and axe finds no
// serious violation. A check-in the server refuses (the pupil left the school while the device
// was offline) is shown in plain words with the pupil and the line. On an iPhone the app says to
// add it to the Home Screen, and it asks for persistent storage at enrolment.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser, screenshot } from '../support/browser.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { readDialogQr } from '../support/qr.js';
import { useSuite } from '../support/suite.js';
import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';
import { en as app } from '../../app/src/locales/en.js';
import { fr as appFr } from '../../app/src/locales/fr.js';
import web from '../../web/src/locales/en.js';

const m = web.messages;

const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off' } });
const CLOCK = schoolClock(); // now is 12:xx in the school's zone
let browser: Browser;
let school: Awaited<ReturnType<typeof aSchool>>;
let admin: Awaited<ReturnType<typeof aStaff>>;
let token: string;
const pupils: Record<string, { id: number; badge: string }> = {};

beforeAll(async () => {
  browser = await launchBrowser('en-GB');
  // Late after 23:00: nobody is late by the clock, only by the teacher's mark.
  school = await aSchool(suite.db, { name: 'Collège Jules Ferry', timezone: CLOCK.timezone, school_days: EVERY_DAY, day_end: '23:30', late_after: '23:00' });
  admin = await aStaff(suite.db, 'school_admin', school.id);
  token = await loginAs(suite.url, admin);
  for (const [name, badge] of [['Ada Lovelace', 'B0001'], ['Ben Okri', 'B0002'], ['Dan Brown', 'B0003'], ['Eve Curie', 'B0004']]) {
    pupils[name.split(' ')[0]] = await aUser(suite.db, school.id, { name, badge, enrolled_on: CLOCK.day(-30) });
  }
});
afterAll(async () => { await browser?.close(); });

const api = async (path: string) => (await http(suite.url, 'GET', path, { token })).body;

/** The dashboard, signed in as the school's admin, on the view named by its tab. */
async function dashboard(tab: string): Promise<{ page: Page; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  await page.goto(suite.url);
  await page.getByLabel(m.email).fill(admin.email);
  await page.getByLabel(m.password, { exact: true }).fill(admin.password);
  await page.getByRole('button', { name: m.signIn }).click();
  await page.locator('#panel[data-ready="true"]').waitFor();
  await page.getByRole('tab', { name: tab }).click();
  await page.locator('#panel[data-ready="true"]').waitFor();
  return { page, close: () => context.close() };
}

/** The dashboard's enrolment QR code for a new device, decoded from the pixels of its image. */
async function enrolmentFromDashboard(deviceName: string): Promise<string> {
  const { page, close } = await dashboard(m.tabs.devices);
  try {
    await page.locator('#panel[data-ready="true"]').waitFor();
    const form = page.getByRole('form', { name: m.registerDevice });
    await form.getByLabel(m.deviceName).fill(deviceName);
    await form.getByRole('button', { name: m.registerDevice }).click();
    const text = (await readDialogQr(page)) ?? '';
    expect(parseEnrolUri(text)?.server).toBe(suite.url);
    return text;
  } finally {
    await close();
  }
}

interface AppPage { context: BrowserContext; page: Page; errors: string[] }

async function openApp(opts: { width?: number; timezoneId?: string } = {}): Promise<AppPage> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 412, height: 860 }, locale: 'en-GB', timezoneId: opts.timezoneId ?? CLOCK.timezone });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error' && !/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::ERR/.test(msg.text())) errors.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  await page.goto(`${suite.url}/app/`);
  return { context, page, errors };
}

async function enrol(page: Page, link: string): Promise<void> {
  await page.getByLabel(app.enrolLink).fill(link);
  await page.getByRole('button', { name: app.enrol, exact: true }).click();
  await page.getByText(app.enrolledAs(parseEnrolUri(link)!.deviceId)).waitFor();
}

const waiting = (page: Page) => page.locator('#status .waiting').getAttribute('data-waiting').then(Number);
async function waitForWaiting(page: Page, n: number): Promise<void> {
  await page.locator(`#status .waiting[data-waiting="${n}"]`).waitFor({ timeout: 30_000 });
}
const pupilButton = (page: Page, name: string) => page.locator('button.pupil', { hasText: name });

describe('a teacher\'s phone and a kiosk tablet, offline then online', () => {
  let deviceId: string;
  let a: AppPage;

  afterAll(async () => { await a?.context.close(); });

  test('enrols from the dashboard\'s QR code, and gets the class list', async () => {
    const link = await enrolmentFromDashboard('Teacher phone');
    deviceId = parseEnrolUri(link)!.deviceId;
    a = await openApp();
    const { page } = a;
    await page.getByRole('heading', { name: app.enrolTitle }).waitFor();
    // The service worker is installed and controls the page before the network goes away.
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    await enrol(page, link);
    for (const name of ['Ada Lovelace', 'Ben Okri', 'Dan Brown', 'Eve Curie']) await pupilButton(page, name).waitFor();
    await expect(pupilButton(page, 'Ada Lovelace').getAttribute('data-mark')).resolves.toBe('present');
    await waitForWaiting(page, 0);
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true))).toBeTruthy();
    await screenshot(page, 'app-roll-call');
  });

  test('offline: a roll call and three kiosk check-ins wait on the device, and the app reopens from its service worker', async () => {
    const { page, context } = a;
    await context.setOffline(true);
    await page.locator('#status .pill[data-online="false"]').waitFor();
    await pupilButton(page, 'Ben Okri').click(); // late
    await pupilButton(page, 'Dan Brown').click();
    await pupilButton(page, 'Dan Brown').click(); // absent
    for (let i = 0; i < 3; i++) await pupilButton(page, 'Eve Curie').click();
    await page.getByRole('dialog').getByRole('button', { name: app.reasons.illness }).click(); // excused
    await expect(pupilButton(page, 'Eve Curie').getAttribute('data-mark')).resolves.toBe('excused');
    await expect(pupilButton(page, 'Ben Okri').getAttribute('data-mark')).resolves.toBe('late');
    await page.getByText(app.counts(1, 1, 1, 1)).waitFor();
    await page.getByRole('button', { name: app.submitRollCall }).click();
    await page.getByText(app.rollCallSaved(4)).waitFor();
    await waitForWaiting(page, 4);

    await page.getByRole('tab', { name: app.kiosk }).click();
    const said = page.locator('.kiosk .message');
    const kiosk = async (badge: string, button: string, answer: RegExp | string) => {
      await page.getByLabel(app.badge).fill(badge);
      await page.getByRole('button', { name: button, exact: true }).click();
      await said.getByText(answer).waitFor();
    };
    await kiosk('b0001', app.arriving, /^Welcome, Ada Lovelace: arrived at/); // badges are matched whatever their case
    await kiosk('B0002', app.arriving, /^Welcome, Ben Okri/);
    await kiosk('B0001', app.leaving, /^Goodbye, Ada Lovelace: left at/);
    await kiosk('B9999', app.arriving, app.unknownBadge('B9999'));
    await waitForWaiting(page, 7);
    expect(await accessibilityProblems(page)).toEqual([]);

    // Reloaded with no network at all: the service worker serves every file of the app.
    await page.reload();
    await page.getByRole('heading', { name: app.kioskTitle }).waitFor();
    await page.locator('#status .pill[data-online="false"]').waitFor();
    expect(await waiting(page)).toBe(7);
    await page.getByRole('tab', { name: app.rollCall }).click();
    await expect(pupilButton(page, 'Dan Brown').getAttribute('data-mark')).resolves.toBe('absent');
    await page.getByText(app.rollCallUpToDate).waitFor();
  });

  test('back online: the marks and the check-ins reach the server, the dashboard and the figures once', async () => {
    const { page, context, errors } = a;
    await context.setOffline(false);
    await waitForWaiting(page, 0);
    await page.locator('#status .last-sent', { hasText: /^Last sent/ }).waitFor();
    // Sending again (and a second sync from the timer) stores nothing twice.
    await page.getByRole('button', { name: app.syncNow }).click();
    await waitForWaiting(page, 0);
    expect(await page.locator('#status .refused').count()).toBe(0);

    const marks = (await api(`/api/marks?school_id=${school.id}&from=${CLOCK.today}&to=${CLOCK.today}`)).items as Array<{ user_id: number; mark: string; reason: string | null; author_kind: string; device_id: string | null; date: string }>;
    const byUser = Object.fromEntries(marks.map((k) => [k.user_id, `${k.mark}${k.reason ? `:${k.reason}` : ''}`]));
    expect(marks).toHaveLength(4);
    expect(marks.every((k) => k.author_kind === 'teacher' && k.device_id === deviceId && k.date === CLOCK.today)).toBe(true);
    expect(byUser).toEqual({ [pupils.Ada.id]: 'present', [pupils.Ben.id]: 'late', [pupils.Dan.id]: 'absent', [pupils.Eve.id]: 'excused:illness' });

    const rows = (await api(`/api/attendances?school_id=${school.id}`)).items as Array<{ user_id: number; type: string; device_id: string }>;
    expect(rows.map((r) => `${r.user_id}:${r.type}`).sort()).toEqual([`${pupils.Ada.id}:checkin`, `${pupils.Ada.id}:checkout`, `${pupils.Ben.id}:checkin`].sort());
    expect(rows.every((r) => r.device_id === deviceId)).toBe(true);

    // The figures: today, Ada and Ben present (Ben late), Dan absent, Eve excused.
    const absent = await api(`/api/schools/${school.id}/presence/absent`);
    expect(JSON.stringify(absent)).toContain('Dan Brown');
    expect(JSON.stringify(absent)).not.toContain('Ada Lovelace');
    const figures = await api(`/api/attendances/aggregate/school/${school.id}?period=day&from=${CLOCK.today}&to=${CLOCK.today}`);
    expect(figures.buckets).toHaveLength(1);
    expect(figures.buckets[0].present).toBe(2); // Ada and Ben (late is present); Eve excused, Dan absent
    const history = await api(`/api/users/${pupils.Eve.id}/history?from=${CLOCK.today}&to=${CLOCK.today}`);
    expect(JSON.stringify(history)).toContain('excused');

    // The dashboard's Today: one absent, one late, one excused; Ben still in, Ada gone home.
    const today = await dashboard(m.tabs.overview);
    try {
      const figure = (id: string) => today.page.locator(`[data-figure="${id}"]`).textContent();
      expect(await figure('present')).toBe('2');
      expect(await figure('absent')).toBe('1');
      expect(await figure('late')).toBe('1');
      expect(await figure('excused')).toBe('1');
      expect(await figure('now')).toBe('1');
      await today.page.getByRole('cell', { name: 'Ben Okri' }).first().waitFor();
    } finally {
      await today.close();
    }

    // The dashboard's device list: the phone has synced and holds nothing back.
    const devices = (await api(`/api/devices?school_id=${school.id}`)).items as Array<{ id: string; pending_records: number | null; last_synced_at: string | null }>;
    const phone = devices.find((d) => d.id === deviceId)!;
    expect(phone.last_synced_at).not.toBeNull();
    expect(phone.pending_records ?? 0).toBe(0);
    expect(errors).toEqual([]);
  });
});

/** A new device registered through the REST API: its enrolment link. */
async function newDeviceLink(name: string): Promise<string> {
  const res = await http(suite.url, 'POST', '/api/devices', { token, body: { school_id: school.id, name, kind: 'mobile' } });
  expect(res.status).toBe(201);
  return res.body.enrol_uri as string;
}

/** Elements whose right edge passes the viewport's (none: the page never scrolls sideways). */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width) out.push(`page: ${document.documentElement.scrollWidth} > ${width}`);
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 0.5) out.push(`${el.tagName.toLowerCase()}.${el.className}: right ${Math.round(r.right)} > ${width}`);
    }
    return out;
  });
}

describe('at 375 px, in French', () => {
  test('enrolment, roll call (with the reason dialog) and kiosk fit the width, and axe finds no serious violation', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'fr-FR', timezoneId: CLOCK.timezone });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${suite.url}/app/`);
      await page.getByRole('heading', { name: appFr.enrolTitle }).waitFor();
      expect(await overflowing(page)).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);
      const link = await newDeviceLink('Tablette');
      await page.getByLabel(appFr.enrolLink).fill(link);
      await page.getByRole('button', { name: appFr.enrol, exact: true }).click();
      await pupilButton(page, 'Eve Curie').waitFor();
      await page.getByRole('heading', { name: /^Appel — / }).waitFor();
      expect(await overflowing(page)).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, 'app-roll-call-fr-375');
      for (let i = 0; i < 3; i++) await pupilButton(page, 'Eve Curie').click();
      await page.getByRole('dialog').getByRole('button', { name: appFr.reasons.family }).waitFor();
      expect(await overflowing(page)).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByRole('dialog').getByRole('button', { name: appFr.cancel }).click();
      await expect(pupilButton(page, 'Eve Curie').getAttribute('data-mark')).resolves.toBe('present');
      await page.getByRole('tab', { name: appFr.kiosk }).click();
      await page.getByLabel(appFr.badge).fill('B0004');
      await page.getByRole('button', { name: appFr.arriving, exact: true }).click();
      await page.getByText(/^Bonjour Eve Curie\u00a0: arrivée à/).first().waitFor();
      expect(await overflowing(page)).toEqual([]);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, 'app-kiosk-fr-375');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('a record the server refuses', () => {
  test('is shown in plain words with its file and line, and does not block the records after it', async () => {
    const zed = await aUser(suite.db, school.id, { name: 'Zed Zola', badge: 'Z0001', enrolled_on: CLOCK.day(-30) });
    const a = await openApp();
    try {
      const { page } = a;
      await enrol(page, await newDeviceLink('Kiosk at the gate'));
      await page.getByRole('tab', { name: app.kiosk }).click();
      await page.getByLabel(app.badge).waitFor();
      await page.locator('#status .pill[data-syncing="false"]').waitFor();
      // Offline, Zed moves to another school: the device still has him on its roster, the server no longer does.
      await a.context.setOffline(true);
      await page.locator('#status .pill[data-online="false"][data-syncing="false"]').waitFor();
      const other = await aSchool(suite.db, { name: 'Another school' });
      await suite.db.updateTable('users').set({ school_id: other.id }).where('id', '=', zed.id).execute();
      for (const [badge, name] of [['Z0001', 'Zed Zola'], ['B0003', 'Dan Brown']]) {
        await page.getByLabel(app.badge).fill(badge);
        await page.getByRole('button', { name: app.arriving, exact: true }).click();
        await page.locator('.kiosk .message').getByText(`Welcome, ${name}`, { exact: false }).waitFor();
      }
      await waitForWaiting(page, 2);
      await a.context.setOffline(false);
      const refused = page.locator('#status .refused');
      await refused.getByText(app.refusedSummary(1)).waitFor({ timeout: 30_000 });
      await refused.locator('summary').click();
      await expect(refused.locator('li').textContent()).resolves.toContain(app.refusal.unknown_user);
      await expect(refused.locator('li').textContent()).resolves.toContain(app.refusedLine('attendances.csv', 2));
      await expect(refused.locator('li').textContent()).resolves.toContain('Zed Zola, arriving ');
      // The list stays open while the status bar is drawn again (another sync).
      await page.getByRole('button', { name: app.syncNow }).click();
      await page.locator('#status .last-sent').waitFor();
      await expect(page.locator('#status details.refused[open] li').count()).resolves.toBe(1);
      await waitForWaiting(page, 0);
      // Dan's check-in, after Zed's in the same batch, is stored.
      const rows = (await api(`/api/attendances?school_id=${school.id}&user_id=${pupils.Dan.id}`)).items as unknown[];
      expect(rows).toHaveLength(1);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, 'app-refused');
      expect(a.errors).toEqual([]);
    } finally {
      await a.context.close();
    }
  });
});

describe('on an iPhone', () => {
  test('the app says to add it to the Home Screen, and asks the browser to keep its storage at enrolment', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 }, locale: 'en-GB', timezoneId: CLOCK.timezone,
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    });
    try {
      // Count the app's calls to navigator.storage.persist() (the answer stays the browser's).
      await context.addInitScript(() => {
        const persist = navigator.storage.persist.bind(navigator.storage);
        (window as unknown as { persistCalls: number }).persistCalls = 0;
        navigator.storage.persist = () => { (window as unknown as { persistCalls: number }).persistCalls++; return persist(); };
      });
      const page = await context.newPage();
      await page.goto(`${suite.url}/app/`);
      await page.getByText(app.iosHomeScreen).waitFor();
      expect(await page.evaluate(() => (window as unknown as { persistCalls: number }).persistCalls)).toBe(0);
      await enrol(page, await newDeviceLink('Class iPhone'));
      expect(await page.evaluate(() => (window as unknown as { persistCalls: number }).persistCalls)).toBe(1);
      await page.getByText(app.iosHomeScreen).waitFor();
      await page.getByText(new RegExp(`^(${app.storagePersisted}|${app.storageNotPersisted.replace(/[.:]/g, '\\$&')})$`)).waitFor();
    } finally {
      await context.close();
    }
  });
});

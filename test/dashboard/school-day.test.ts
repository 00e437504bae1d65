// A school's day in the dashboard (issue #28), as a school admin, in English and in French, in
// a real Chromium against the real api: Today's absent / not yet arrived / late counts follow
// the school's late_after; the pupil page leads with the rate and the verdict; the admin
// excuses a pupil for three days (the rate changes, the days read excused with their reason),
// adds a forgotten check-out (shown as a correction, the anomaly gone) and withdraws it; the
// Figures CSV carries the same rate as the API.
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage } from '../support/browser.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ env: { DATAMART_EXPORT_CRON: 'off' } });
const CLOCK = schoolClock(); // now is 12:xx in the school's zone
const iso = (ms: number) => new Date(ms).toISOString();

const LANG = {
  en: { locale: 'en-GB', email: 'Email', password: 'Password', signIn: 'Sign in', excuse: 'Excuse', add: 'Add', withdraw: 'Withdraw',
    excused: 'Excused for 3 days.', rate: (r: string) => `Attendance rate ${r}`, pct: (n: number) => `${n}%`, correction: 'correction', noCheckout: 'no check-out',
    illness: 'illness', asTable: 'Figures as a table', today: 'Today', figures: 'Figures' },
  fr: { locale: 'fr-FR', email: 'E-mail', password: 'Mot de passe', signIn: 'Se connecter', excuse: 'Excuser', add: 'Ajouter', withdraw: 'Retirer',
    excused: 'Excusé pour 3 jours.', rate: (r: string) => `Taux de présence ${r}`, pct: (n: number) => `${n} %`, correction: 'correction', noCheckout: 'pas de départ',
    illness: 'maladie', asTable: 'Les chiffres en tableau', today: 'Aujourd’hui', figures: 'Chiffres' },
};

let english: Browser;
let french: Browser;
beforeAll(async () => { [english, french] = await Promise.all([launchBrowser('en-GB'), launchBrowser('fr-FR')]); });
afterAll(async () => { await english?.close(); await french?.close(); });

const plain = (s: string | null) => (s ?? '').replace(/\s/g, ' ').trim();

describe.each(['en', 'fr'] as const)('a school admin, in %s', (lang) => {
  const t = LANG[lang];
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;
  let token: string;
  let school: { id: number };
  const pupils: Record<string, { id: number }> = {};
  const api = async (path: string) => (await http(suite.url, 'GET', path, { token })).body;

  beforeAll(async () => {
    // Late after 23:00 first: at noon, whoever has not come is "not yet arrived".
    school = await aSchool(suite.db, { name: `École ${lang}`, timezone: CLOCK.timezone, school_days: EVERY_DAY, day_end: '17:00', late_after: '23:00' });
    const admin = await aStaff(suite.db, 'school_admin', school.id);
    token = await loginAs(suite.url, admin);
    for (const name of ['Ada', 'Ben', 'Dan', 'Eve']) pupils[name] = await aUser(suite.db, school.id, { name, enrolled_on: CLOCK.day(-30) });
    const add = async (user: string, days: number, type: string, hhmm: string) =>
      expect((await http(suite.url, 'POST', '/api/attendances', { token, body: { user_id: pupils[user].id, type, occurred_at: iso(CLOCK.at(days, hhmm)) } })).status).toBe(201);
    for (const d of [-4, -3, -2, -1]) {
      for (const u of ['Ada', 'Ben']) { await add(u, d, 'checkin', '08:00'); await add(u, d, 'checkout', '16:00'); }
      if (d <= -3) { await add('Dan', d, 'checkin', '08:00'); await add('Dan', d, 'checkout', '16:00'); }
      await add('Eve', d, 'checkin', '08:00');
      if (d !== -1) await add('Eve', d, 'checkout', '16:00'); // yesterday she forgot to badge out
    }
    await add('Ada', 0, 'checkin', '08:00');
    await add('Ben', 0, 'checkin', '10:00');
    const w = await openPage(lang === 'fr' ? french : english, undefined, t.locale);
    ({ page, errors, close } = w);
    await page.goto(suite.url);
    await page.getByLabel(t.email).fill(admin.email);
    await page.getByLabel(t.password).fill(admin.password);
    await page.getByRole('button', { name: t.signIn }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
  });
  afterAll(async () => { await close(); });

  const card = (id: string) => page.locator(`[data-figure="${id}"]`).textContent();
  async function openToday(): Promise<void> {
    await page.goto(`${suite.url}/#overview`);
    await page.reload();
    await page.locator('#panel[data-ready="true"]').waitFor();
    await page.locator('[data-figure="late"]').waitFor();
  }

  test("Today's three counts follow late_after: not yet arrived before it, absent after it, late arrivals counted apart", async () => {
    await openToday();
    let away = await api(`/api/schools/${school.id}/presence/absent`);
    expect(away.counts).toMatchObject({ absent: 0, not_yet_arrived: 2, late: 0 });
    expect([await card('absent'), await card('not-yet'), await card('late')]).toEqual(['0', '2', '0']);
    await http(suite.url, 'PATCH', `/api/schools/${school.id}/attendance-settings`, { token, body: { late_after: '09:00' } });
    await openToday();
    away = await api(`/api/schools/${school.id}/presence/absent`);
    expect(away.counts).toMatchObject({ absent: 2, not_yet_arrived: 0, late: 1 });
    expect([await card('absent'), await card('not-yet'), await card('late')]).toEqual(['2', '0', '1']);
    // The late list names Ben.
    expect(await page.locator('.absent-today tbody tr', { hasText: 'Ben' }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test('excuse Dan for three days: the rate changes on his page, and Today counts him excused', async () => {
    const from = CLOCK.day(-4);
    await page.goto(`${suite.url}/#pupils?user=${pupils.Dan.id}&from=${from}&to=${CLOCK.today}`);
    await page.locator('.pupil-rate').waitFor();
    expect(plain(await page.locator('.pupil-rate').textContent())).toBe(t.rate(t.pct(40))); // 2 of 5
    await page.locator('input[name="excuse-from"]').fill(CLOCK.day(-2));
    await page.locator('input[name="excuse-to"]').fill(CLOCK.today);
    await page.locator('select[name="excuse-reason"]').selectOption('illness');
    await page.getByRole('button', { name: t.excuse, exact: true }).click();
    await page.getByText(new RegExp(t.excused.replace(/ /g, '\\s'))).waitFor(); // French puts no-break spaces in numbers
    await page.locator('.pupil-rate', { hasText: new RegExp(t.pct(100).replace(/ /g, '\\s')) }).waitFor();
    const hist = await api(`/api/users/${pupils.Dan.id}/history?from=${from}&to=${CLOCK.today}`);
    expect(hist.summary).toMatchObject({ rate: 100, open_days: 2, excused_days: 3 });
    expect(await page.locator('.pupil-days tbody tr', { hasText: `(${t.illness})` }).count()).toBe(3);
    await openToday();
    expect(await card('excused')).toBe('1');
    expect(await card('absent')).toBe('1');
    expect(errors).toEqual([]);
  });

  test('add Eve\'s forgotten check-out: a correction with its reason, the anomaly gone; then withdraw it', async () => {
    const yesterday = CLOCK.day(-1);
    await page.goto(`${suite.url}/#pupils?user=${pupils.Eve.id}&from=${CLOCK.day(-4)}&to=${CLOCK.today}`);
    await page.locator('.pupil-days').waitFor();
    const dayRow = () => page.locator('.pupil-days tbody tr').nth(1); // newest first: yesterday
    expect(plain(await dayRow().textContent())).toContain(t.noCheckout);
    await page.locator('input[name="correction-at"]').fill(`${yesterday}T16:00`);
    await page.locator('select[name="correction-type"]').selectOption('checkout');
    await page.locator('input[name="correction-reason"]').fill('forgot to badge out');
    await page.getByRole('button', { name: t.add, exact: true }).click();
    await page.locator('.attendances tbody tr', { hasText: 'forgot to badge out' }).waitFor();
    await expect(dayRow().textContent()).resolves.not.toContain(t.noCheckout);
    const listed = await api(`/api/attendances?user_id=${pupils.Eve.id}`);
    const correction = listed.items.find((a: any) => a.reason === 'forgot to badge out');
    expect(correction).toMatchObject({ type: 'checkout', device_id: null, created_by: expect.any(Number), occurred_at: new Date(CLOCK.at(-1, '16:00')).toISOString() });
    // Withdrawn: a new row cancels it, and the day is as the device left it.
    page.once('dialog', (d) => void d.accept('entered twice'));
    await page.locator('.attendances tbody tr', { hasText: 'forgot to badge out' }).getByRole('button', { name: t.withdraw }).click();
    await page.locator('.attendances tbody tr', { hasText: 'forgot to badge out' }).getByRole('button', { name: t.withdraw }).waitFor({ state: 'detached' });
    await page.locator('.pupil-days tbody tr').nth(1).filter({ hasText: t.noCheckout }).waitFor();
    expect((await api(`/api/attendances?user_id=${pupils.Eve.id}`)).items.some((a: any) => a.cancels_id === correction.id)).toBe(true);
    expect(errors).toEqual([]);
  });

  test('the Figures CSV carries the rate the API answers', async () => {
    const from = CLOCK.day(-4);
    await page.goto(`${suite.url}/#figures?period=day&from=${from}&to=${CLOCK.today}`);
    await page.locator('#panel[data-ready="true"]').waitFor();
    await page.getByText(t.asTable).click();
    const figures = await api(`/api/attendances/aggregate/school/${school.id}?period=day&from=${from}&to=${CLOCK.today}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('details.numbers').getByRole('button').first().click()]);
    // The server's export in the page's language: "," and "87.5%" in English, ";" and "87,5%" in French.
    const rows = parse(await fs.readFile((await download.path())!), { bom: true, delimiter: lang === 'fr' ? ';' : ',' }) as string[][];
    expect(rows[0].slice(0, 3)).toEqual(lang === 'fr' ? ['Début de période', 'Fin de période', 'Taux de présence'] : ['Period start', 'Period end', 'Attendance rate']);
    const rate = (cell: string) => (cell === '' ? null : Number(cell.replace(',', '.').replace('%', '')));
    expect(rows.slice(1).map((r) => rate(r[2]))).toEqual(figures.buckets.map((b: any) => b.rate));
    expect(errors).toEqual([]);
  });
});

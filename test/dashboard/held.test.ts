// The Held punches tab in a real Chromium (issue #27): punches a v4 device and a PUSH terminal were
// answered for but that name no pupil of the school, or came with a clock ahead, listed per device
// and PIN and per PIN with counts; staff pick a pupil to import a group as, once, and discard
// another after a confirmation; in English and in French, with no accessibility violation.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { PushTerminal } from '../../simulator/push-client.js';
import { accessibilityProblems, launchBrowser, openPage } from '../support/browser.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { waitFor } from '../sync/helpers.js';

const suite = useSuite({ worker: true });
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const ENGLISH = { email: 'Email', password: 'Password', signIn: 'Sign in', school: 'School', tab: 'Held punches' };
const FRENCH = { email: 'E-mail', password: 'Mot de passe', signIn: 'Se connecter', school: 'École', tab: 'Pointages retenus' };

async function openHeld(page: Page, who: { email: string; password: string }, schoolId: number, words: typeof ENGLISH): Promise<void> {
  await page.goto(suite.url);
  await page.getByLabel(words.email).fill(who.email);
  await page.getByLabel(words.password).fill(who.password);
  await page.getByRole('button', { name: words.signIn }).click();
  await page.locator('#panel[data-ready="true"]').waitFor();
  await page.getByLabel(words.school).selectOption(String(schoolId));
  await page.getByRole('tab', { name: words.tab }).click();
  await page.locator('#panel[data-ready="true"]').waitFor();
}

test('held punches: listed per device and PIN, imported as a picked pupil once, discarded after a confirmation; in French too', async () => {
  const school = await aSchool(suite.db, { name: 'Harbour School', timezone: 'UTC' });
  const ada = await aUser(suite.db, school.id, { name: 'Ada Lovelace', badge: 'A1', enrolled_on: '2026-10-01' });
  const grace = await aUser(suite.db, school.id, { name: 'Grace Hopper', badge: 'G1', enrolled_on: '2026-10-01' });
  const backoffice = await aStaff(suite.db, 'backoffice');
  const token = await loginAs(suite.url, backoffice);

  // A v4 device: a pupil it enrolled itself (NEW-7), twice, and a check-out an hour ahead.
  const device = await aDevice(suite.db, school.id);
  await suite.db.updateTable('devices').set({ name: 'Front door tablet' }).where('id', '=', device.id).execute();
  const tablet = await new TestDevice(suite.url, device).signIn();
  await tablet.sync(batchZip({
    'device.xml': deviceXml(),
    'attendances.csv': attendancesCsv([
      { record_id: 1, user_id: 'NEW-7', type: 'checkin', occurred_at: '2026-12-04T08:00:00Z', temperature: '36.6' },
      { record_id: 2, user_id: 'NEW-7', type: 'checkout', occurred_at: '2026-12-04T15:00:00Z' },
      { record_id: 3, user_id: ada.id, type: 'checkout', occurred_at: new Date(Date.now() + 3600_000).toISOString() },
    ]),
  }));
  // A PUSH terminal: PIN 777, known to no one.
  const registered = await http(suite.url, 'POST', '/api/push/terminals', { token, body: { serial_number: 'HELD0001', school_id: school.id, name: 'Side gate' } });
  expect(registered.status).toBe(201);
  const terminal = new PushTerminal(suite.url, 'HELD0001');
  await terminal.handshake();
  expect((await terminal.upload('ATTLOG', '777\t2026-12-04 08:05:00\t0\t1\n')).body).toBe('OK: 1');
  await waitFor(async () => (await http(suite.url, 'GET', `/api/schools/${school.id}/held-punches`, { token })).body.items.length === 3, 15_000, 'three held groups');

  const w = await openPage(browser);
  try {
    const { page } = w;
    await openHeld(page, backoffice, school.id, ENGLISH);
    const groups = page.locator('table', { has: page.locator('caption', { hasText: 'Held punches of Harbour School, per device and PIN' }) }).locator('tbody tr');
    await expect(groups.count()).resolves.toBe(3);
    const fresh = groups.filter({ hasText: 'NEW-7' });
    await expect(fresh.textContent()).resolves.toMatch(/Front door tablet.*v4 device.*NEW-7.*unknown PIN.*2 \(1 with a temperature\)4 Dec 2026, 08:004 Dec 2026, 15:00/);
    const ahead = groups.filter({ hasText: 'clock ahead' });
    await expect(ahead.textContent()).resolves.toContain(`${ada.id}`);
    await expect(ahead.getByRole('button', { name: 'Import as Ada Lovelace' }).isVisible()).resolves.toBe(true);
    await expect(groups.filter({ hasText: '777' }).textContent()).resolves.toMatch(/Side gate.*PUSH terminal.*777.*unknown PIN/);
    const perPin = page.locator('table', { has: page.locator('caption', { hasText: 'Per PIN, every device together' }) }).locator('tbody tr');
    await expect(perPin.count()).resolves.toBe(3);

    // The picker open inside a row, then the accessibility check.
    await fresh.getByRole('combobox', { name: 'Pupil' }).fill('grac');
    await fresh.getByRole('option', { name: /Grace Hopper/ }).click();
    expect(await accessibilityProblems(page)).toEqual([]);
    await fresh.getByRole('button', { name: 'Import as Grace Hopper' }).click();
    await expect(page.getByRole('status').filter({ hasText: '2 punches imported as Grace Hopper' }).waitFor()).resolves.toBeUndefined();
    await groups.filter({ hasText: 'NEW-7' }).waitFor({ state: 'detached' });
    const stored = await suite.db.selectFrom('attendances').select(['record_id', 'type']).where('user_id', '=', grace.id).orderBy('record_id').execute();
    expect(stored).toEqual([{ record_id: 1, type: 'checkin' }, { record_id: 2, type: 'checkout' }]);
    expect(await suite.db.selectFrom('fever_events').select('id').where('user_id', '=', grace.id).execute()).toEqual([]); // 36.6: no fever

    // Discard asks first; cancelled, nothing changes; confirmed, the group goes and the rows say who.
    await ahead.getByRole('button', { name: 'Discard' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.textContent()).resolves.toMatch(/Discard the punches held for \d+\?.*1 punch from Front door tablet will never count/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(groups.filter({ hasText: 'clock ahead' }).count()).resolves.toBe(1);
    await groups.filter({ hasText: 'clock ahead' }).getByRole('button', { name: 'Discard' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Discard', exact: true }).click();
    await groups.filter({ hasText: 'clock ahead' }).waitFor({ state: 'detached' });
    const discarded = await suite.db.selectFrom('held_punches').select(['discarded_by']).where('device_id', '=', device.id).where('record_id', '=', 3).executeTakeFirstOrThrow();
    expect(discarded.discarded_by).not.toBeNull();
    expect(w.errors).toEqual([]);
  } finally {
    await w.close();
  }

  const french = await openPage(browser, undefined, 'fr-FR');
  try {
    const { page } = french;
    await openHeld(page, backoffice, school.id, FRENCH);
    const row = page.locator('table', { has: page.locator('caption', { hasText: 'Pointages retenus de Harbour School, par appareil et par code' }) }).locator('tbody tr');
    await expect(row.count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toMatch(/Side gate.*terminal PUSH.*777.*code inconnu/);
    await expect(row.getByRole('button', { name: 'Écarter' }).isVisible()).resolves.toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(french.errors).toEqual([]);
  } finally {
    await french.close();
  }
});

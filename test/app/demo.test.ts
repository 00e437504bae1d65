// What README's "The app for schools" tells a newcomer after `npm start`: in the demo school,
// the school admin rotates the secret of the demo's "Teacher phone" in the dashboard, the app
// enrols with the QR code it shows, and the phone's first check-in is stored once, beside the rows
// the demo's history already holds for that phone (no record_conflict).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { createDemoData, type DemoData } from '../../db/startup/bootstrap.js';
import { launchBrowser } from '../support/browser.js';
import { readDialogQr } from '../support/qr.js';
import { useSuite } from '../support/suite.js';
import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';
import { en as app } from '../../app/src/locales/en.js';
import web from '../../web/src/locales/en.js';

const m = web.messages;
const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off' } });
let browser: Browser;
let demo: DemoData;

beforeAll(async () => {
  browser = await launchBrowser('en-GB');
  demo = (await createDemoData(suite.db, { demoAdminPassword: 'demo password 123' }))!;
});
afterAll(async () => { await browser?.close(); });

test('the demo\'s Teacher phone enrols from the QR code of its rotated secret, and its first check-in is stored', async () => {
  const phone = demo.devices.find((d) => d.name === 'Teacher phone')!;
  const startedAt = new Date(Date.now() - 1000);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/Paris' });
  try {
    const page = await context.newPage();
    await page.goto(suite.url);
    await page.getByLabel(m.email).fill(demo.schoolAdmin.email);
    await page.getByLabel(m.password, { exact: true }).fill('demo password 123');
    await page.getByRole('button', { name: m.signIn }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    await page.getByRole('tab', { name: m.tabs.devices }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    await page.getByRole('button', { name: m.rotateSecretOf('Teacher phone') }).click();
    await page.locator('dialog[open]').getByRole('button', { name: m.rotateSecret }).click();
    const link = (await readDialogQr(page)) ?? '';
    expect(parseEnrolUri(link)?.deviceId).toBe(phone.id);

    const appPage = await context.newPage();
    await appPage.goto(`${suite.url}/app/`);
    await appPage.getByLabel(app.enrolLink).fill(link);
    await appPage.getByRole('button', { name: app.enrol, exact: true }).click();
    await appPage.locator('button.pupil', { hasText: 'Alice Martin' }).waitFor();
    await appPage.getByRole('tab', { name: app.kiosk }).click();
    await appPage.getByLabel(app.badge).fill('B0001');
    await appPage.getByRole('button', { name: app.arriving, exact: true }).click();
    await appPage.locator('#status .waiting[data-waiting="0"]').waitFor({ timeout: 30_000 });
    await appPage.locator('#status .last-sent', { hasText: /^Last sent/ }).waitFor();
    expect(await appPage.locator('#status .refused').count()).toBe(0);
  } finally {
    await context.close();
  }
  // Stored once, as the phone's, and not confused with the rows the demo's history holds for it.
  const alice = await suite.db.selectFrom('users').select('id').where('school_id', '=', demo.school.id).where('name', '=', 'Alice Martin').executeTakeFirstOrThrow();
  const stored = await suite.db.selectFrom('attendances').select(['user_id', 'type']).where('device_id', '=', phone.id).where('occurred_at', '>=', startedAt).execute();
  expect(stored).toEqual([{ user_id: alice.id, type: 'checkin' }]);
});

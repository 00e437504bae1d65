// Running a school from the dashboard (issue #29), in a real Chromium, in English and in French,
// as a school admin and as backoffice: add a pupil, import a roster file with one bad row (its
// problem named in the preview, the good rows applied), reset a colleague's password and sign
// in with the link, register a device and read its enrolment QR code back (decoded here with
// jsQR from the pixels the page drew). axe finds no serious or critical violation on the new
// views and dialogs.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser, openPage, screenshot } from '../support/browser.js';
import { aSchool, aStaff } from '../support/fixtures.js';
import { readDialogQr } from '../support/qr.js';
import { useSuite } from '../support/suite.js';
import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';
import en from '../../web/src/locales/en.js';
import fr from '../../web/src/locales/fr.js';


const suite = useSuite();
let school: Awaited<ReturnType<typeof aSchool>>;

beforeAll(async () => {
  school = await aSchool(suite.db, { name: 'Lycée Victor Hugo' });
});

async function ready(page: Page): Promise<void> {
  await page.locator('#panel[data-ready="true"]').waitFor();
}


const tours = [
  { lang: 'en-GB', role: 'school_admin' as const, m: en.messages },
  { lang: 'fr-FR', role: 'school_admin' as const, m: fr.messages },
  { lang: 'en-GB', role: 'backoffice' as const, m: en.messages },
  { lang: 'fr-FR', role: 'backoffice' as const, m: fr.messages },
];

describe.each(tours)('a tour in $lang as $role', ({ lang, role, m }) => {
  let browser: Browser;
  const tag = `${lang}-${role}`;
  let me: Awaited<ReturnType<typeof aStaff>>;
  let colleague: Awaited<ReturnType<typeof aStaff>>;

  beforeAll(async () => {
    browser = await launchBrowser(lang);
    me = await aStaff(suite.db, role, role === 'school_admin' ? school.id : null);
    colleague = await aStaff(suite.db, 'school_admin', school.id);
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
    await page.goto(suite.url);
    await page.getByLabel(m.email).fill(who.email);
    await page.getByLabel(m.password, { exact: true }).fill(who.password);
    await page.getByRole('button', { name: m.signIn }).click();
    await ready(page);
  }

  test('add a pupil, import a roster file with one bad row, reset a colleague\'s password and sign in with the link', async () => {
    const { page, errors, close } = await openPage(browser, undefined, lang);
    try {
      await signIn(page, me);
      await page.getByRole('tab', { name: m.tabs.people }).click();
      await ready(page);

      const add = page.getByRole('form', { name: m.addPupil });
      await add.getByLabel(m.name).fill(`Inès Martin ${tag}`);
      await add.getByLabel(m.badge).fill(`ADD-${tag}`);
      await add.getByRole('button', { name: m.addPupil }).click();
      await page.getByRole('cell', { name: `Inès Martin ${tag}`, exact: true }).waitFor();
      expect(await suite.db.selectFrom('users').select('school_id').where('badge', '=', `ADD-${tag}`).executeTakeFirst()).toEqual({ school_id: school.id });

      const csv = `name,badge\r\nNoah Petit ${tag},IMP1-${tag}\r\n,IMP2-${tag}\r\nLéa Bernard ${tag},IMP3-${tag}\r\n`;
      await page.getByLabel(m.rosterFile).setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: m.previewImport }).click();
      const preview = page.locator('.import-preview tbody tr');
      await preview.first().waitFor();
      expect(await preview.allInnerTexts()).toEqual([
        expect.stringContaining(m.rowAction.create), expect.stringContaining(m.rowProblem.name_missing(0)), expect.stringContaining(m.rowAction.create),
      ]);
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, `people-import-${tag}`);
      await page.getByRole('button', { name: m.applyImport(2) }).click();
      await page.getByText(m.importDone).waitFor();
      const imported = await suite.db.selectFrom('users').select('name').where('badge', 'like', `IMP%-${tag}`).orderBy('badge').execute();
      expect(imported.map((u) => u.name)).toEqual([`Noah Petit ${tag}`, `Léa Bernard ${tag}`]);
      await page.getByRole('cell', { name: `Léa Bernard ${tag}`, exact: true }).waitFor();

      await page.getByRole('button', { name: m.resetPasswordOf(colleague.email) }).click();
      await page.locator('dialog[open]').getByRole('button', { name: m.resetPassword }).click();
      const link = await page.locator('dialog[open] input[name="reset-url"]').inputValue();
      expect(link).toMatch(new RegExp(`^${suite.url}/#reset\\?token=`));
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.locator('dialog[open]').getByRole('button', { name: m.close }).click();
      const audit = await suite.db.selectFrom('staff_audit').select(['action', 'staff_id']).where('subject', '=', 'staff').where('subject_id', '=', colleague.id).execute();
      expect(audit).toEqual([{ action: 'staff.password_reset', staff_id: me.id }]);
      expect(errors).toEqual([]);

      // The colleague opens the link in their own browser.
      const other = await openPage(browser, undefined, lang);
      try {
        await other.page.goto(link);
        await other.page.getByText(m.resetFor(colleague.email)).waitFor();
        expect(await accessibilityProblems(other.page)).toEqual([]);
        await other.page.getByLabel(m.newPassword, { exact: true }).fill('a brand new password');
        await other.page.getByLabel(m.newPasswordAgain).fill('a brand new password');
        await other.page.getByRole('button', { name: m.setPassword }).click();
        await ready(other.page);
        await other.page.getByText(colleague.email).waitFor();
        // The link works once.
        await other.page.goto('about:blank');
        await other.page.goto(link);
        await other.page.getByText(m.resetLinkInvalid).waitFor();
        expect(other.errors.filter((e) => !e.includes('400'))).toEqual([]);
      } finally {
        await other.close();
      }
    } finally {
      await close();
    }
  });

  test('register a device and read its QR code back; the secret it holds signs the device in', async () => {
    const { page, errors, close } = await openPage(browser, undefined, lang);
    try {
      await signIn(page, me);
      await page.getByRole('tab', { name: m.tabs.devices }).click();
      await ready(page);
      const form = page.getByRole('form', { name: m.registerDevice });
      await form.getByLabel(m.deviceName).fill(`Tablet ${tag}`);
      await form.getByRole('button', { name: m.registerDevice }).click();
      const text = await readDialogQr(page);
      const enrol = parseEnrolUri(text ?? '');
      expect(enrol).toEqual({
        server: suite.url,
        deviceId: await page.locator('dialog[open] input[name="device-id"]').inputValue(),
        secret: await page.locator('dialog[open] input[name="device-secret"]').inputValue(),
      });
      expect(await accessibilityProblems(page)).toEqual([]);
      await screenshot(page, `device-enrol-${tag}`);
      await page.locator('dialog[open]').getByRole('button', { name: m.close }).click();
      const res = await fetch(`${suite.url}/v4/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_id: enrol!.deviceId, secret: enrol!.secret }) });
      expect(res.status).toBe(200);
      await page.getByRole('cell', { name: `Tablet ${tag} ${m.kind.mobile}`, exact: true }).waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

test('forgot password on the sign-in page says whom to ask when no e-mail can be sent', async () => {
  const browser = await launchBrowser('fr-FR');
  const { page, close } = await openPage(browser, undefined, 'fr-FR');
  try {
    await page.goto(suite.url);
    await page.getByRole('button', { name: fr.messages.forgotPassword }).click();
    await page.getByText(fr.messages.forgotAskSomeone).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
  } finally {
    await close();
    await browser.close();
  }
});

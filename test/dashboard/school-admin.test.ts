// Running a school from the dashboard (issue #29 items 3–5 and 7), in a real Chromium, in
// English and in French, as a school admin and as backoffice: the Calendar tab shows the
// month, takes an .ics file mixing kinds through its preview (each category's kind shown and
// changeable) and imports it, adds, changes and removes an entry; the figures download as CSV
// (read back with a French-locale parser) and as XLSX (read back with exceljs); the pupil
// picker finds Chloé from "chloe"; the page says "Badge : K003" with French typography; axe
// finds no serious or critical violation on the new views.
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { Browser, Page } from 'playwright-core';
import { accessibilityProblems, launchBrowser, openPage, screenshot } from '../support/browser.js';
import { schoolClock } from '../support/clock.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
const CLOCK = schoolClock();
const ownYear = readFileSync(new URL('../../fixtures/calendars/school-own-2026-2027.ics', import.meta.url), 'utf8');
let english: Browser;
let french: Browser;
let school: Awaited<ReturnType<typeof aSchool>>;
let admin: { id: number; email: string; password: string };
let backoffice: { id: number; email: string; password: string };
let chloe: Awaited<ReturnType<typeof aUser>>;

const T = {
  en: {
    locale: 'en-GB', email: 'Email', password: 'Password', signIn: 'Sign in', school: 'School',
    tabs: { calendar: 'Calendar', figures: 'Figures', pupils: 'Pupils' },
    file: 'File', preview: 'Preview', categories: 'Categories of the file', kindFor: (c: string) => `Kind for ${c}`,
    importButton: /^Import \(/, imported: 'Imported: 6 added, 0 changed.',
    kind: 'Kind', label: 'Label', from: 'From', to: 'To', add: 'Add', edit: 'Change', save: 'Save', del: 'Delete',
    closure: 'closure', asTable: 'Figures as a table', csv: 'Download CSV', xlsx: 'Download Excel (XLSX)', sep: ',',
    headers: ['Period start', 'Period end', 'Attendance rate', 'Present', 'Absent', 'Total', 'Late days', 'Excused days', 'No data yet', 'Open days', 'Closed days', 'Final'],
    sheet: 'Figures', pupil: 'Pupil', badge: 'Badge: K003',
  },
  fr: {
    locale: 'fr-FR', email: 'E-mail', password: 'Mot de passe', signIn: 'Se connecter', school: 'École',
    tabs: { calendar: 'Calendrier', figures: 'Chiffres', pupils: 'Élèves' },
    file: 'Fichier', preview: 'Aperçu', categories: 'Catégories du fichier', kindFor: (c: string) => `Type pour ${c}`,
    importButton: /^Importer \(/, imported: 'Importé\u00a0: 6 ajoutés, 0 modifiés.',
    kind: 'Type', label: 'Libellé', from: 'Du', to: 'Au', add: 'Ajouter', edit: 'Modifier', save: 'Enregistrer', del: 'Supprimer',
    closure: 'fermeture', asTable: 'Les chiffres en tableau', csv: 'Télécharger en CSV', xlsx: 'Télécharger en Excel (XLSX)', sep: ';',
    headers: ['Début de période', 'Fin de période', 'Taux de présence', 'Présents', 'Absents', 'Total', 'Jours en retard', 'Jours excusés', 'Pas encore de données', 'Jours ouverts', 'Jours fermés', 'Définitif'],
    sheet: 'Chiffres', pupil: 'Élève', badge: 'Badge\u00a0: K003',
  },
};

beforeAll(async () => {
  school = await aSchool(suite.db, { name: 'École Jules-Ferry', timezone: CLOCK.timezone });
  admin = await aStaff(suite.db, 'school_admin', school.id);
  backoffice = await aStaff(suite.db, 'backoffice');
  chloe = await aUser(suite.db, school.id, { name: 'Chloé Fernández', badge: 'K003', enrolled_on: '2026-09-01' });
  await aUser(suite.db, school.id, { name: 'Lucas Martin', badge: 'K004', enrolled_on: '2026-09-01' });
  const token = await loginAs(suite.url, admin);
  // Chloé in for 7 hours two days ago (school time): the figures have something to export.
  for (const [type, at] of [['checkin', CLOCK.at(-2, '08:00')], ['checkout', CLOCK.at(-2, '15:00')]] as const) {
    expect((await http(suite.url, 'POST', '/api/attendances', { token, body: { user_id: chloe.id, type, occurred_at: new Date(at).toISOString() } })).status).toBe(201);
  }
  [english, french] = await Promise.all([launchBrowser('en-GB'), launchBrowser('fr-FR')]);
}, 60_000);
afterAll(async () => {
  await Promise.all([english?.close(), french?.close()]);
});

async function ready(page: Page): Promise<void> {
  await page.locator('#panel[data-ready="true"]').waitFor();
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await ready(page);
}

const plain = (text: string | null) => (text ?? '').replace(/\s/g, ' ');

describe.each([
  ['a school admin', 'en', false],
  ['backoffice', 'fr', true],
  ['a school admin', 'fr', false],
  ['backoffice', 'en', true],
] as const)('%s, in %s', (who, lang, asBackoffice) => {
  const t = T[lang];
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;
  beforeAll(async () => {
    const w = await openPage(lang === 'en' ? english : french, { width: 1280, height: 900 }, t.locale);
    ({ page, errors, close } = w);
    const me = asBackoffice ? backoffice : admin;
    await page.goto(suite.url);
    await page.getByLabel(t.email).fill(me.email);
    await page.getByLabel(t.password).fill(me.password);
    await page.getByRole('button', { name: t.signIn }).click();
    await ready(page);
    if (asBackoffice) {
      await page.getByLabel(t.school, { exact: true }).selectOption(String(school.id));
      await ready(page);
    }
  });
  afterAll(async () => { await close(); });

  test('the calendar: an .ics file of several kinds through its preview, then an entry added, changed and removed', async () => {
    await page.goto(`${suite.url}/#calendar?month=2026-11${asBackoffice ? `&school=${school.id}` : ''}`);
    await ready(page);
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByLabel(t.file, { exact: true }).setInputFiles({ name: 'ecole-2026-2027.ics', mimeType: 'text/calendar', buffer: Buffer.from(ownYear) });
    await page.getByRole('button', { name: t.preview, exact: true }).click();
    const mapping = page.locator('table', { has: page.locator('caption', { hasText: t.categories }) });
    await mapping.waitFor();
    // One row per category, each with the kind its word names.
    expect(await page.getByLabel(t.kindFor('Grève')).inputValue()).toBe('closure');
    expect(await page.getByLabel(t.kindFor('Jour férié')).inputValue()).toBe('public_holiday');
    expect(await page.getByLabel(t.kindFor('Vacances')).inputValue()).toBe('holiday');
    expect(await page.getByLabel(t.kindFor('Année scolaire')).inputValue()).toBe('term');
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, `calendar-preview-${lang}`);

    const firstTour = who === 'a school admin' && lang === 'en';
    if (firstTour) {
      // The pedagogical day counted as a holiday rather than a closure: the preview follows the choice.
      await page.getByLabel(t.kindFor('Fermeture')).selectOption('holiday');
      await page.waitForFunction(() => document.querySelector('.import-items')?.textContent?.includes('holiday'));
      await page.getByRole('button', { name: t.importButton }).click();
      await page.locator('.notice', { hasText: t.imported }).waitFor();
      const entries = await suite.db.selectFrom('calendar_entries').select(['label', 'kind']).where('school_id', '=', school.id).orderBy('starts_on').execute();
      expect(entries.map((e) => e.kind)).toEqual(['term', 'holiday', 'public_holiday', 'closure', 'holiday', 'holiday']);
      const audit = await suite.db.selectFrom('staff_audit').selectAll().where('school_id', '=', school.id).execute();
      expect(audit).toEqual([expect.objectContaining({ action: 'calendar.import', staff_id: admin.id })]);
    }
    await ready(page);
    // The strike of 24 November 2026 closes that day in the grid.
    const strike = page.locator('.month-grid td', { has: page.locator('time[datetime="2026-11-24"]') });
    await expect(strike.getAttribute('class')).resolves.toContain('closure');
    expect(plain(await strike.textContent())).toContain('Grève des enseignants');

    // An entry added, changed, then removed, from the page.
    const label = `Neige ${lang} ${who}`;
    await page.getByLabel(t.kind, { exact: true }).selectOption('closure');
    await page.getByLabel(t.label, { exact: true }).fill(label);
    await page.locator('.entry-form').getByLabel(t.from, { exact: true }).fill('2026-12-08');
    await page.locator('.entry-form').getByLabel(t.to, { exact: true }).fill('2026-12-08');
    await page.locator('.entry-form').getByRole('button', { name: t.add, exact: true }).click();
    // The page moves to the entry's month (December) by itself.
    await page.locator('.month-grid td.closure', { has: page.locator('time[datetime="2026-12-08"]') }).waitFor();
    const row = page.locator('.entries tr', { hasText: label });
    await row.first().waitFor();
    await row.first().getByRole('button', { name: t.edit }).click();
    await page.locator('.entry-form').getByLabel(t.to, { exact: true }).fill('2026-12-09');
    await page.locator('.entry-form').getByRole('button', { name: t.save, exact: true }).click();
    await page.locator('.month-grid td.closure', { has: page.locator('time[datetime="2026-12-09"]') }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.locator('.entries tr', { hasText: label }).getByRole('button', { name: t.del }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: t.del, exact: true }).click();
    await page.locator('.entries tr', { hasText: label }).waitFor({ state: 'detached' });
    // The page's history names who deleted it (the audit trail, newest first).
    const me = asBackoffice ? backoffice : admin;
    await page.locator('.history tbody tr').first().filter({ hasText: me.email }).filter({ hasText: lang === 'fr' ? 'entrée supprimée' : 'entry deleted' }).waitFor();
    const rows = await suite.db.selectFrom('staff_audit').selectAll().where('subject', '=', 'calendar_entry').where('school_id', '=', school.id).execute();
    const mine = rows.filter((r) => JSON.stringify(r.details).includes(label));
    expect(mine.map((r) => r.action).sort()).toEqual(['calendar_entry.create', 'calendar_entry.delete', 'calendar_entry.update']);
    expect(mine.every((r) => r.staff_id === (asBackoffice ? backoffice.id : admin.id))).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  test('the figures download as CSV and XLSX in the page\'s language, and read back', async () => {
    await openTab(page, t.tabs.figures);
    await page.getByText(t.asTable).click();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('details.numbers').getByRole('button', { name: t.csv }).click()]);
    expect(csv.suggestedFilename()).toMatch(/^ecole-jules-ferry-figures-day-.*\.csv$/);
    const bytes = await fs.readFile((await csv.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(bytes, { delimiter: t.sep, bom: true, columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0])).toEqual(t.headers);
    const twoDaysAgo = CLOCK.day(-2);
    const written = lang === 'fr' ? twoDaysAgo.split('-').reverse().join('/') : twoDaysAgo;
    const row = rows.find((r) => r[t.headers[0]] === written)!;
    expect(row).toBeDefined();
    if (row[t.headers[10]] === '') expect(row[t.headers[3]]).toBe('1'); // an open day (no closure named): Chloé present

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.locator('details.numbers').getByRole('button', { name: t.xlsx }).click()]);
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/);
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile((await xlsx.path())!);
    const sheet = book.worksheets[0];
    expect(sheet.name).toBe(t.sheet);
    expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(t.headers);
    const cells = sheet.getRow(2);
    expect(cells.getCell(1).value).toBeInstanceOf(Date);
    expect(typeof cells.getCell(4).value).toBe('number'); // present: a number cell
    expect(cells.getCell(3).numFmt).toBe('0.0%'); // the attendance rate: a percentage

    // Twelve weeks at 1280 px: the chart's labels keep apart (they ran together).
    await page.getByLabel(lang === 'fr' ? 'Période' : 'Period', { exact: true }).selectOption('week');
    await page.locator('table caption', { hasText: lang === 'fr' ? 'Présents et absents par semaine' : 'Present and absent per week' }).waitFor();
    await screenshot(page, `figures-weeks-${lang}-1280`);
    expect(errors).toEqual([]);
  }, 60_000);

  test('the pupil picker finds Chloé from "chloe", and her badge reads as the language writes it', async () => {
    await openTab(page, t.tabs.pupils);
    await page.getByRole('combobox', { name: t.pupil }).fill('chloe');
    await page.getByRole('option', { name: /Chloé Fernández/ }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('.pupil-name', { hasText: 'Chloé Fernández' }).waitFor();
    expect(await page.locator('.pupil-head p').textContent()).toContain(t.badge);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);
});

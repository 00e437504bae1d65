// Printing on A4 without waste (issue #29 §6): a pupil's month prints on at most 2 pages and the
// Figures page with its chart on 1, and no page but the last is left mostly blank (a table too
// tall for what is left of a page used to jump whole to the next one). Real PDFs from Chromium's
// page.pdf(), rendered with pdftoppm and measured for ink (test/support/pdf-pages.ts).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, openPage } from '../support/browser.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice, type CsvAttendance } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser } from '../support/fixtures.js';
import { pdfPages, type PageInk } from '../support/pdf-pages.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off' } });
const CLOCK = schoolClock();
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
let browser: Browser;
let admin: { email: string; password: string };
let pupil: Awaited<ReturnType<typeof aUser>>;

/** A month of school days for a class of 12: most in and out each day, with a temperature. */
beforeAll(async () => {
  const school = await aSchool(suite.db, { name: 'École Jules Ferry', timezone: CLOCK.timezone, school_days: EVERY_DAY });
  const users = [];
  for (let i = 0; i < 12; i++) users.push(await aUser(suite.db, school.id, { name: `Pupil ${String.fromCharCode(65 + i)} Dupont`, enrolled_on: CLOCK.day(-90) }));
  pupil = users[0];
  admin = await aStaff(suite.db, 'school_admin', school.id);
  const device = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const rows: CsvAttendance[] = [];
  let record = 0;
  for (let k = 31; k >= 1; k--) {
    users.forEach((u, i) => {
      if ((i + k) % 5 === 0) return;
      const arrival = CLOCK.at(-k, '08:00') + i * 60_000;
      rows.push({ record_id: ++record, user_id: u.id, type: 'checkin', occurred_at: iso(arrival), temperature: '36.7' });
      rows.push({ record_id: ++record, user_id: u.id, type: 'checkout', occurred_at: iso(arrival + ((i + k) % 7 === 0 ? 2 : 7) * 3600_000) });
    });
  }
  await device.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function printed(url: string, waitFor: (page: Page) => Promise<void>, name: string, onPaper?: (page: Page) => Promise<void>): Promise<PageInk[]> {
  // A desktop window: the chart was drawn at its width, then shrunk onto the page.
  const paper = await openPage(browser, { width: 1280, height: 800 });
  try {
    const { page } = paper;
    await page.goto(suite.url);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    await page.goto(url);
    await waitFor(page);
    await page.emulateMedia({ media: 'print' });
    await onPaper?.(page);
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    if (process.env.SCREENSHOTS) fs.writeFileSync(path.join(process.env.SCREENSHOTS, `${name}.pdf`), pdf);
    expect(paper.errors).toEqual([]);
    return pdfPages(pdf);
  } finally {
    await paper.close();
  }
}

/** Every page but the last is printed on at least down to 70 % of its height; the last has something on it. */
function expectNoWaste(pages: PageInk[]): void {
  pages.slice(0, -1).forEach((p, i) => expect({ page: i + 1, fullEnough: p.lastInk >= 0.7 }).toEqual({ page: i + 1, fullEnough: true }));
  expect(pages.at(-1)!.inkedRows).toBeGreaterThan(0.05);
}

test("a pupil's month prints on at most 2 A4 pages, none left mostly blank", async () => {
  const from = CLOCK.day(-30);
  const pages = await printed(`${suite.url}/#pupils?user=${pupil.id}&from=${from}&to=${CLOCK.today}&period=month`,
    (page) => page.locator('table caption', { hasText: `Days of ${pupil.name}` }).waitFor(), 'pupil-month');
  expect(pages.length).toBeLessThanOrEqual(2);
  expectNoWaste(pages);
});

test('the Figures page with its chart prints on one A4 page', async () => {
  const pages = await printed(`${suite.url}/#figures?period=week&from=${CLOCK.day(-27)}&to=${CLOCK.today}`,
    (page) => page.locator('.chart canvas').first().waitFor(), 'figures', async (page) => {
      // Drawn at the page's width, not shrunk from the screen's (which made its labels tiny and left
      // an empty band below it): the canvas shows at the size it was drawn, and nothing under it.
      await page.waitForFunction(() => document.querySelector<HTMLCanvasElement>('.chart canvas')!.clientWidth <= 700);
      const chart = await page.evaluate(() => {
        const canvas = document.querySelector<HTMLCanvasElement>('.chart canvas')!;
        const wrap = canvas.closest<HTMLElement>('.u-wrap')!;
        return { shown: canvas.clientWidth, drawn: Math.round(canvas.width / devicePixelRatio), band: wrap.clientHeight - canvas.clientHeight };
      });
      expect(chart.shown).toBe(chart.drawn);
      expect(chart.band).toBeLessThanOrEqual(2);
    });
  expect(pages.length).toBe(1);
  expectNoWaste(pages);
});

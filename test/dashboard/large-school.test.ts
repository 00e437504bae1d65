// A school of 2,000 users: the figures view draws every user's row count and the first page
// of the table, and the time from navigation to drawn figures is reported (not asserted:
// machines differ; bench/README.md quotes the figure measured here).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage } from '../support/browser.js';
import type { NewAttendance } from '../../db/schema/index.js';
import { refreshUserDays } from '../../db/repositories/user-days.js';
import { aSchool, aStaff, someUsers } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const DAY = 86_400_000;

describe('a school of 2,000 users', () => {
  test('the figures view shows all of them and the first rows of the table', async () => {
    const school = await aSchool(suite.db, { name: 'Big School', timezone: 'UTC' });
    const today = new Date().toISOString().slice(0, 10);
    const users = await someUsers(suite.db, school.id, 2000, new Date(Date.now() - 60 * DAY).toISOString().slice(0, 10));
    const admin = await aStaff(suite.db, 'school_admin', school.id);
    // Four weeks of full days for every user (112,000 rows), stored and turned into user-days the
    // way the import does, without the queue: this suite is about the page, not the import.
    const midnight = Date.parse(`${today}T00:00:00Z`);
    const rows: NewAttendance[] = [];
    for (let k = 28; k >= 1; k--) {
      for (const u of users) {
        rows.push({ school_id: school.id, user_id: u.id, type: 'checkin', occurred_at: new Date(midnight - k * DAY + 8 * 3600_000), device_id: null, record_id: null });
        rows.push({ school_id: school.id, user_id: u.id, type: 'checkout', occurred_at: new Date(midnight - k * DAY + 15 * 3600_000), device_id: null, record_id: null });
      }
    }
    await suite.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 5000) await trx.insertInto('attendances').values(rows.slice(i, i + 5000)).execute();
      await refreshUserDays(trx, rows.map((r) => ({ schoolId: r.school_id, userId: r.user_id, occurredAt: r.occurred_at as Date })));
    });

    const w = await openPage(browser);
    try {
      const { page } = w;
      const login = await http(suite.url, 'POST', '/api/auth/login', { body: { email: admin.email, password: admin.password } });
      await page.goto(`${suite.url}/`);
      await page.evaluate(({ token, staff }) => {
        sessionStorage.setItem('attendance.token', token);
        sessionStorage.setItem('attendance.staff', JSON.stringify(staff));
      }, { token: login.body.access_token, staff: login.body.staff });
      // Time from navigation start to the view drawn with its data, as the browser measures it
      // (performance mark set by the shell); each view loaded twice, the first warms the server.
      const timings: Record<string, number[]> = {};
      for (const view of ['overview', 'figures', 'overview', 'figures']) {
        await page.goto(`${suite.url}/?load=${Math.random()}#${view}`); // a new document, not a hash change
        await page.locator('#panel[data-ready="true"]').waitFor();
        const ms = await page.evaluate((name) => performance.getEntriesByName(name)[0]?.startTime, `ready:${view}`);
        (timings[view] ??= []).push(Math.round(ms));
        if (view === 'figures') {
          expect(await page.locator('.users .muted').first().textContent()).toMatch(/^2,000 of 2,000 pupils/);
          expect(await page.locator('.users tbody tr').count()).toBe(100);
        }
      }
      process.stdout.write(`dashboard load with 2,000 users (navigation start to drawn figures, cold then warm): ${JSON.stringify(timings)} ms\n`);
      expect(w.errors).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

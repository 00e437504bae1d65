// The demo a fresh `npm start` shows (issue #28): pupils enrolled 60 days back, four weeks of
// check-ins. Days before the first check-in are "no data" (records_from defaults to the first
// recorded day), so no week or month reads absent for want of data, and the rates are a
// school's: around nine days in ten.
import { expect, test } from '@jest/globals';
import { createDemoData } from '../../db/startup/bootstrap.js';
import { addDays } from '../../shared/time/calendar.js';
import { todayIn } from '../../shared/time/zoned.js';
import { loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();

test('the demo school: no data before the first check-in, realistic rates after it, lateness and excuses', async () => {
  const demo = (await createDemoData(suite.db, { demoAdminPassword: 'demo password 1234' }))!;
  const token = await loginAs(suite.url, demo.schoolAdmin);
  const today = todayIn('Europe/Paris', new Date());
  const get = async (path: string) => (await http(suite.url, 'GET', path, { token })).body;
  const from = addDays(today, -60);

  const months = await get(`/api/attendances/aggregate/school/${demo.school.id}?period=month&from=${from}&to=${today}`);
  const weeks = await get(`/api/attendances/aggregate/school/${demo.school.id}?period=week&from=${from}&to=${today}`);
  expect(months.records_from >= addDays(today, -28)).toBe(true);
  for (const b of [...months.buckets, ...weeks.buckets]) {
    if (b.no_data) {
      // Before the data: nobody absent, nothing final.
      expect(b).toMatchObject({ absent: 0, total: 0, final: false, rate: null });
    } else if (b.counted_user_days > 0 && b.end < today) {
      // Ended weeks and months (today's own pupils may not have arrived yet).
      expect(b.rate).toBeGreaterThan(80);
      expect(b.rate).toBeLessThanOrEqual(100);
    }
  }
  expect(weeks.buckets.some((b: any) => b.no_data)).toBe(true); // the weeks before the data say so
  expect(weeks.buckets.filter((b: any) => !b.no_data && b.total > 0 && b.end < today).every((b: any) => b.present > 0)).toBe(true);
  // Late arrivals and excused days exist, and neither is an absence.
  const recent = weeks.buckets.filter((b: any) => !b.no_data);
  expect(recent.reduce((n: number, b: any) => n + b.late_days, 0)).toBeGreaterThan(0);
  expect(recent.reduce((n: number, b: any) => n + b.excused_days, 0)).toBeGreaterThan(0);
});

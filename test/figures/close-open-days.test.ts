// A pupil who forgot to check out: once the day is over, the hourly job closes the stored
// user-day at day_end with `missing_checkout`, and leaves today's open days alone.
import { expect, test } from '@jest/globals';
import { createLogger } from '../../shared/logger.js';
import { closeOpenDays } from '../../worker/jobs/close-open-days.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();


test("a day left open is closed at day_end with missing_checkout once it is over, not before", async () => {
  // Where it is mid-day now: 08:00 today has passed and midnight is hours away, whenever this runs.
  const clock = schoolClock();
  const school = await aSchool(suite.db, { timezone: clock.timezone, school_days: EVERY_DAY });
  const token = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  const forgot = await aUser(suite.db, school.id);
  const today = clock.today;
  // Checked in at 08:00 today; never checked out.
  const at = new Date(clock.at(0, '08:00'));
  expect((await http(suite.url, 'POST', '/api/attendances', { token, body: { user_id: forgot.id, type: 'checkin', occurred_at: at.toISOString() } })).status).toBe(201);
  const day = () => suite.db.selectFrom('user_days').selectAll().where('user_id', '=', forgot.id).where('date', '=', today).executeTakeFirstOrThrow();
  const job = (now: Date) => closeOpenDays({ db: suite.db, logger: createLogger('test', 'silent') }, now);

  // Still today: nothing to close.
  expect((await job(new Date())).closed).toBe(0);
  expect((await day()).open_since).not.toBeNull();

  // The next day: closed at day_end (17:00).
  const tomorrow = new Date(clock.at(1, '09:00'));
  expect((await job(tomorrow)).closed).toBe(1);
  const done = await day();
  expect(done.open_since).toBeNull();
  expect(done.anomalies).toContain('missing_checkout');
  expect(done.seconds).toBe(Math.round((clock.at(0, '17:00') - at.getTime()) / 1000));
  // Nothing left: a second run changes nothing.
  expect((await job(tomorrow)).closed).toBe(0);
});

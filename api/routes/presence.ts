// "Who, not only how many": the users absent or not yet arrived today, and one user's days
// over a range — what an admin opens from a figure. Same rules as the figures (DESIGN §4),
// the school's calendar applied: on a closed day nobody is absent.
import { z } from 'zod';
import type { DbOrTrx } from '../../db/database.js';
import { figureUsers } from '../../db/repositories/figures.js';
import { schoolUserDaysOn, userDaysOf } from '../../db/repositories/presence.js';
import { findSchool } from '../../db/repositories/schools.js';
import { findUser } from '../../db/repositories/users.js';
import { aggregatePresence, PRESENCE_RULE } from '../../shared/attendance/aggregate.js';
import { bucketsFor, spanOf } from '../../shared/attendance/buckets.js';
import { isCounted, isPresentOnDay } from '../../shared/attendance/presence.js';
import { SKIP_REASONS, type SkipReason } from '../../shared/attendance/school-calendar.js';
import { ANOMALIES, dayClock, secondsAt, type Anomaly } from '../../shared/attendance/user-day.js';
import { validationFailed } from '../../shared/errors.js';
import { daysBetween, eachDate } from '../../shared/time/calendar.js';
import { todayIn } from '../../shared/time/zoned.js';
import { loadSchoolCalendar } from '../calendar/school-calendar.js';
import type { StaffAuth } from '../http/authenticate.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope } from '../http/scope.js';
import { errors, idParam, localDate, timestamp } from '../schemas/common.js';

const MAX_HISTORY_DAYS = 366;

const closedSchema = z.object({
  reason: z.enum(SKIP_REASONS.filter((r) => r !== 'not_begun') as [SkipReason, ...SkipReason[]]),
  label: z.string(),
}).nullable().describe('Why the school is closed that day; null when open');

export const absentSchema = z.object({
  school_id: z.number().int(), today: z.string(), as_of: timestamp, timezone: z.string(), day_end: z.string(),
  open: z.boolean().describe('The school is open today; when closed nobody is absent and items is empty'),
  closed: closedSchema,
  counts: z.object({ counted: z.number().int(), present: z.number().int(), absent: z.number().int(), not_yet_arrived: z.number().int() }),
  items: z.array(z.object({
    user_id: z.number().int(), name: z.string(), badge: z.string(),
    status: z.enum(['absent', 'not_yet_arrived']).describe('not_yet_arrived: no check-in yet and the day (until day_end) is not over; absent: the day is over without a check-in, or checked in and left with 4 h or less'),
    first_checkin_at: timestamp.nullable(), last_event_at: timestamp.nullable(), seconds: z.number().int(),
  })),
}).meta({ id: 'AbsentToday' });

export const historySchema = z.object({
  user_id: z.number().int(), school_id: z.number().int(), name: z.string(), badge: z.string(), enrolled_on: z.string(),
  from: z.string(), to: z.string(), timezone: z.string(), today: z.string(),
  rule: z.object({ day: z.string(), period: z.string(), closed_day: z.string(), counted: z.string(), present_day_seconds: z.number().int(), period_threshold_percent: z.number().int() }),
  summary: z.object({
    open_days: z.number().int().describe('Open days begun in the range on which the user is counted'),
    days_present: z.number().int().describe('Of those, days present'),
    closed_days_attended: z.number().int().describe('Closed days on which the user checked in (present, outside the open days)'),
    anomalies: z.record(z.string(), z.number().int()),
  }),
  days: z.array(z.object({
    date: z.string(), open: z.boolean(), closed: closedSchema,
    status: z.enum(['present', 'absent']).nullable().describe('null: not counted (closed day without a check-in, not enrolled yet or deactivated, not begun)'),
    seconds: z.number().int().describe('Time accumulated, an interval still open today counted up to now'),
    first_checkin_at: timestamp.nullable(), last_event_at: timestamp.nullable(), last_event_type: z.enum(['checkin', 'checkout']).nullable(),
    checked_in_now: z.boolean(), anomalies: z.array(z.enum(ANOMALIES as [Anomaly, ...Anomaly[]])),
  })),
  periods: z.array(z.object({
    start: z.string(), end: z.string(),
    status: z.enum(['present', 'absent']).nullable().describe('null: not counted on any open day of the period'),
    open_days: z.number().int().describe('Open days of the period, begun, on which the user is counted'),
    days_present: z.number().int().describe('Of those, days present'),
  })).optional().describe('With `period`: the user\'s verdict per whole ISO week or month touching the range, as the figures count it (include=users)'),
}).meta({ id: 'UserHistory' });

async function schoolInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const school = await findSchool(db, id);
  assertInScope(auth, school?.id, 'school');
  return school!;
}

export function presenceRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/schools/:id/presence/absent', summary: 'Who is absent or not yet arrived today (nobody on a day the school is closed)', tags: ['figures'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'Absent and not yet arrived, by name', schema: absentSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      const now = new Date();
      const tz = school.timezone;
      const today = todayIn(tz, now);
      const dayEnd = school.day_end.slice(0, 5);
      const [cal, users, rows] = await Promise.all([loadSchoolCalendar(db, school), figureUsers(db, school.id), schoolUserDaysOn(db, school.id, today)]);
      const opening = cal.calendar.opening(today);
      const clock = dayClock({ date: today, timezone: tz, dayEnd, now, today });
      const byUser = new Map(rows.map((r) => [Number(r.user_id), r]));
      const dayOver = now.getTime() >= clock.dayEndMs;
      const counts = { counted: 0, present: 0, absent: 0, not_yet_arrived: 0 };
      const items = [];
      for (const u of users) {
        const row = byUser.get(u.id) ?? null;
        const day = row && { seconds: row.seconds, openSince: row.open_since };
        if (!opening.open) {
          // Closed: those who came are present, nobody is absent.
          if (row?.first_checkin_at) { counts.counted++; counts.present++; }
          continue;
        }
        if (!isCounted({ enrolledOn: u.enrolled_on, deletedAt: u.deleted_at }, today, tz, row !== null)) continue;
        counts.counted++;
        if (isPresentOnDay(day, clock)) { counts.present++; continue; }
        const status = !row?.first_checkin_at && !dayOver ? 'not_yet_arrived' as const : 'absent' as const;
        counts[status]++;
        items.push({
          user_id: u.id, name: u.name, badge: u.badge, status,
          first_checkin_at: row?.first_checkin_at?.toISOString() ?? null, last_event_at: row?.last_event_at?.toISOString() ?? null,
          seconds: day ? secondsAt(day, clock) : 0,
        });
      }
      items.sort((a, b) => a.name.localeCompare(b.name) || a.user_id - b.user_id);
      return reply.ok({
        school_id: school.id, today, as_of: now.toISOString(), timezone: tz, day_end: dayEnd,
        open: opening.open, closed: opening.open ? null : { reason: opening.reason, label: opening.label }, counts, items,
      });
    },
  });

  api.add({
    method: 'get', path: '/api/users/:id/history', summary: 'A user\'s days over a range: open or closed, present or absent, hours, first check-in, anomalies', tags: ['figures'], auth: 'staff',
    params: idParam, query: z.object({ from: localDate, to: localDate, period: z.enum(['week', 'month']).optional().describe('Also answer the verdict per week or month') }),
    responses: { 200: { description: 'One entry per day of the range', schema: historySchema }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      if (query.from > query.to) throw validationFailed([{ field: 'query.to', message: 'must not be before from' }]);
      if (daysBetween(query.from, query.to) >= MAX_HISTORY_DAYS) throw validationFailed([{ field: 'query.to', message: `the range is limited to ${MAX_HISTORY_DAYS} days` }]);
      const user = await findUser(db, params.id);
      assertInScope(auth, user?.school_id, 'user');
      const school = (await findSchool(db, user!.school_id))!;
      const now = new Date();
      const tz = school.timezone;
      const today = todayIn(tz, now);
      const dayEnd = school.day_end.slice(0, 5);
      // Weeks and months are whole (figures count them so): their days are read even outside the range.
      const span = query.period ? spanOf(bucketsFor(query.period, query.from, query.to))! : { start: query.from, end: query.to };
      const [cal, rows] = await Promise.all([loadSchoolCalendar(db, school), userDaysOf(db, school.id, user!.id, span.start, span.end)]);
      const byDate = new Map(rows.map((r) => [r.date, r]));
      const summary = { open_days: 0, days_present: 0, closed_days_attended: 0, anomalies: Object.fromEntries(ANOMALIES.map((a) => [a, 0])) as Record<Anomaly, number> };
      const days = eachDate(query.from, query.to).map((date) => {
        const row = byDate.get(date) ?? null;
        const opening = cal.calendar.opening(date);
        const clock = dayClock({ date, timezone: tz, dayEnd, now, today });
        const day = row && { seconds: row.seconds, openSince: row.open_since };
        let status: 'present' | 'absent' | null = null;
        if (date <= today) {
          if (!opening.open) {
            if (row?.first_checkin_at) { status = 'present'; summary.closed_days_attended++; }
          } else if (isCounted({ enrolledOn: user!.enrolled_on, deletedAt: user!.deleted_at }, date, tz, row !== null)) {
            status = isPresentOnDay(day, clock) ? 'present' : 'absent';
            summary.open_days++;
            if (status === 'present') summary.days_present++;
          }
        }
        const anomalies = (row?.anomalies ?? []) as Anomaly[];
        for (const a of anomalies) summary.anomalies[a]++;
        return {
          date, open: opening.open, closed: opening.open ? null : { reason: opening.reason, label: opening.label }, status,
          seconds: day ? secondsAt(day, clock) : 0,
          first_checkin_at: row?.first_checkin_at?.toISOString() ?? null, last_event_at: row?.last_event_at?.toISOString() ?? null,
          last_event_type: row?.last_event_type ?? null, checked_in_now: row?.open_since != null && clock.kind === 'today', anomalies,
        };
      });
      // The figures' own computation for this one user: the page and the Figures tab never disagree.
      const periods = query.period && aggregatePresence({
        school: { timezone: tz, dayEnd, calendar: cal.calendar }, period: query.period, from: query.from, to: query.to, now, completeUntil: null, includeUsers: true,
        users: [{ id: user!.id, enrolledOn: user!.enrolled_on, deletedAt: user!.deleted_at }],
        userDays: rows.map((r) => ({ userId: user!.id, date: r.date, seconds: r.seconds, openSince: r.open_since, checkedIn: r.first_checkin_at !== null })),
      });
      return reply.ok({
        user_id: user!.id, school_id: school.id, name: user!.name, badge: user!.badge, enrolled_on: user!.enrolled_on,
        from: query.from, to: query.to, timezone: tz, today, rule: PRESENCE_RULE, summary, days,
        ...(periods && {
          periods: periods.buckets.map((b, i) => {
            const c = periods.users![0].counts[i];
            return { start: b.start, end: b.end, status: periods.users![0].statuses[i], open_days: c?.openDays ?? 0, days_present: c?.daysPresent ?? 0 };
          }),
        }),
      });
    },
  });
}

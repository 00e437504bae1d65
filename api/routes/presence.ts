// "Who, not only how many": the users absent or not yet arrived today, and one user's days
// over a range — what an admin opens from a figure. Same rules as the figures (DESIGN §4),
// the school's calendar applied: on a closed day nobody is absent.
import { z } from 'zod';
import type { DbOrTrx } from '../../db/database.js';
import { figureUsers } from '../../db/repositories/figures.js';
import { schoolUserDaysOn, userDaysOf } from '../../db/repositories/presence.js';
import { findSchool } from '../../db/repositories/schools.js';
import { findUser } from '../../db/repositories/users.js';
import { aggregatePresence, presenceRule } from '../../shared/attendance/aggregate.js';
import { dayVerdict, MARK_CONFLICTS, MARK_KINDS, MARK_REASONS, type MarkConflict, type MarkKind, type MarkReason } from '../../shared/attendance/marks.js';
import { attendanceRate } from '../../shared/attendance/presence.js';
import { effectiveRecordsFrom, schoolDayRules } from '../figures/school-day.js';
import { bucketsFor, spanOf } from '../../shared/attendance/buckets.js';
import { isCounted } from '../../shared/attendance/presence.js';
import { SKIP_REASONS, type SkipReason } from '../../shared/attendance/school-calendar.js';
import { ANOMALIES, dayClock, secondsAt, type Anomaly } from '../../shared/attendance/user-day.js';
import { validationFailed } from '../../shared/errors.js';
import { daysBetween, eachDate } from '../../shared/time/calendar.js';
import { todayIn } from '../../shared/time/zoned.js';
import { loadSchoolCalendar } from '../calendar/school-calendar.js';
import type { StaffAuth } from '../http/authenticate.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest } from '../http/scope.js';
import { errors, idParam, localDate, timestamp } from '../schemas/common.js';

const MAX_HISTORY_DAYS = 366;

const closedSchema = z.object({
  reason: z.enum(SKIP_REASONS.filter((r) => r !== 'not_begun' && r !== 'no_data') as [SkipReason, ...SkipReason[]]),
  label: z.string(),
}).nullable().describe('Why the school is closed that day; null when open');

export const absentSchema = z.object({
  school_id: z.number().int(), today: z.string(), as_of: timestamp, timezone: z.string(), day_end: z.string(),
  open: z.boolean().describe('The school is open today; when closed nobody is absent and items is empty'),
  closed: closedSchema,
  late_after: z.string().nullable().describe("The school's late_after (HH:MM); null: none"),
  counts: z.object({
    counted: z.number().int(), present: z.number().int(), absent: z.number().int(), not_yet_arrived: z.number().int(),
    late: z.number().int().describe('Present and late (arrived after late_after, or marked late): also in present'),
    excused: z.number().int().describe('Excused today: neither present nor absent, out of counted'),
  }),
  items: z.array(z.object({
    user_id: z.number().int(), name: z.string(), badge: z.string(),
    status: z.enum(['absent', 'not_yet_arrived', 'late', 'excused']).describe('not_yet_arrived: no check-in yet, no mark, and it is not yet past late_after (without one: day_end); absent: past it without a check-in, marked absent, or checked in and left with 4 h or less; late: present, arrived late; excused: marked excused'),
    mark: z.enum(MARK_KINDS as [MarkKind, ...MarkKind[]]).nullable(), reason: z.enum(MARK_REASONS as [MarkReason, ...MarkReason[]]).nullable(),
    first_checkin_at: timestamp.nullable(), last_event_at: timestamp.nullable(), seconds: z.number().int(),
  })),
}).meta({ id: 'AbsentToday' });

export const historySchema = z.object({
  user_id: z.number().int(), school_id: z.number().int(), name: z.string(), badge: z.string(), enrolled_on: z.string(),
  from: z.string(), to: z.string(), timezone: z.string(), today: z.string(),
  rule: z.object({
    day: z.string(), period: z.string(), closed_day: z.string(), counted: z.string(), rate: z.string(), marks: z.string(), late: z.string(), no_data: z.string(),
    present_day_seconds: z.number().int(), period_threshold_percent: z.number().int(),
  }),
  records_from: z.string().nullable().describe('Effective records_from: days before it are no data'),
  summary: z.object({
    rate: z.number().nullable().describe('The attendance rate over the range: days_present / open_days, percent; null when nothing is counted'),
    open_days: z.number().int().describe('Counted days: open days begun in the range on which the user is counted, on or after records_from, not excused'),
    days_present: z.number().int().describe('Of those, days present'),
    excused_days: z.number().int().describe('Excused days, out of the count'),
    late_days: z.number().int().describe('Days present and late'),
    no_data_days: z.number().int().describe('Open days before records_from'),
    closed_days_attended: z.number().int().describe('Closed days on which the user checked in (present, outside the open days)'),
    anomalies: z.record(z.string(), z.number().int()),
  }),
  days: z.array(z.object({
    date: z.string(), open: z.boolean(), closed: closedSchema,
    status: z.enum(['present', 'absent', 'excused', 'no_data']).nullable().describe('null: not counted (closed day without a check-in, not enrolled yet or deactivated, not begun); no_data: before records_from'),
    late: z.boolean(), mark: z.enum(MARK_KINDS as [MarkKind, ...MarkKind[]]).nullable().describe('The standing mark of the day'),
    mark_reason: z.enum(MARK_REASONS as [MarkReason, ...MarkReason[]]).nullable(),
    mark_conflict: z.enum(MARK_CONFLICTS as [MarkConflict, ...MarkConflict[]]).nullable().describe('teachers_disagree, absent_but_checked_in: the school should look'),
    seconds: z.number().int().describe('Time accumulated, an interval still open today counted up to now'),
    first_checkin_at: timestamp.nullable(), last_event_at: timestamp.nullable(), last_event_type: z.enum(['checkin', 'checkout']).nullable(),
    checked_in_now: z.boolean(), anomalies: z.array(z.enum(ANOMALIES as [Anomaly, ...Anomaly[]])),
  })),
  periods: z.array(z.object({
    start: z.string(), end: z.string(),
    status: z.enum(['present', 'absent', 'excused']).nullable().describe('null: not counted on any open day of the period'),
    rate: z.number().nullable(),
    open_days: z.number().int().describe('Counted days of the period: open, begun, recorded, not excused, on which the user is counted'),
    days_present: z.number().int().describe('Of those, days present'),
    excused_days: z.number().int(), late_days: z.number().int(),
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
      const lateAfter = school.late_after?.slice(0, 5) ?? null;
      const clock = dayClock({ date: today, timezone: tz, dayEnd, now, today, lateAfter });
      const byUser = new Map(rows.map((r) => [Number(r.user_id), r]));
      // Not yet arrived until late_after (without one, until day_end); absent after it.
      const awaited = now.getTime() < (clock.lateAfterMs ?? clock.dayEndMs);
      const counts = { counted: 0, present: 0, absent: 0, not_yet_arrived: 0, late: 0, excused: 0 };
      const items = [];
      for (const u of users) {
        const row = byUser.get(u.id) ?? null;
        const day = row && { seconds: row.seconds, openSince: row.open_since, mark: row.mark as MarkKind | null, checkedIn: row.first_checkin_at !== null, firstCheckinAt: row.first_checkin_at };
        if (!opening.open) {
          // Closed: those who came are present, nobody is absent.
          if (row?.first_checkin_at) { counts.counted++; counts.present++; }
          continue;
        }
        if (!isCounted({ enrolledOn: u.enrolled_on, deletedAt: u.deleted_at }, today, tz, row !== null)) continue;
        const verdict = dayVerdict(day, clock);
        let status: 'absent' | 'not_yet_arrived' | 'late' | 'excused';
        if (verdict.status === 'excused') {
          counts.excused++;
          status = 'excused';
        } else {
          counts.counted++;
          if (verdict.status === 'present') {
            counts.present++;
            if (!verdict.late) continue;
            counts.late++;
            status = 'late';
          } else {
            status = !row?.first_checkin_at && row?.mark !== 'absent' && awaited ? 'not_yet_arrived' : 'absent';
            counts[status]++;
          }
        }
        items.push({
          user_id: u.id, name: u.name, badge: u.badge, status, mark: (row?.mark ?? null) as MarkKind | null, reason: (row?.mark_reason ?? null) as MarkReason | null,
          first_checkin_at: row?.first_checkin_at?.toISOString() ?? null, last_event_at: row?.last_event_at?.toISOString() ?? null,
          seconds: day ? secondsAt(day, clock) : 0,
        });
      }
      items.sort((a, b) => a.name.localeCompare(b.name) || a.user_id - b.user_id);
      return reply.ok({
        school_id: school.id, today, as_of: now.toISOString(), timezone: tz, day_end: dayEnd, late_after: lateAfter,
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
      const userSchool = await schoolOfRequest(db, auth, 'users', params.id);
      const user = userSchool === null ? undefined : await findUser(db, userSchool, params.id);
      assertInScope(auth, user?.school_id, 'user');
      const school = (await findSchool(db, user!.school_id))!;
      const now = new Date();
      const tz = school.timezone;
      const today = todayIn(tz, now);
      const dayEnd = school.day_end.slice(0, 5);
      // Weeks and months are whole (figures count them so): their days are read even outside the range.
      const span = query.period ? spanOf(bucketsFor(query.period, query.from, query.to))! : { start: query.from, end: query.to };
      const [cal, rows, recorded] = await Promise.all([loadSchoolCalendar(db, school), userDaysOf(db, school.id, user!.id, span.start, span.end), effectiveRecordsFrom(db, school)]);
      const rules = schoolDayRules(school, recorded, today);
      const byDate = new Map(rows.map((r) => [r.date, r]));
      const summary = {
        rate: null as number | null, open_days: 0, days_present: 0, excused_days: 0, late_days: 0, no_data_days: 0, closed_days_attended: 0,
        anomalies: Object.fromEntries(ANOMALIES.map((a) => [a, 0])) as Record<Anomaly, number>,
      };
      const days = eachDate(query.from, query.to).map((date) => {
        const row = byDate.get(date) ?? null;
        const opening = cal.calendar.opening(date);
        const clock = dayClock({ date, timezone: tz, dayEnd, now, today, lateAfter: rules.lateAfter });
        const day = row && { seconds: row.seconds, openSince: row.open_since, mark: row.mark as MarkKind | null, checkedIn: row.first_checkin_at !== null, firstCheckinAt: row.first_checkin_at };
        let status: 'present' | 'absent' | 'excused' | 'no_data' | null = null;
        let late = false;
        if (date <= today) {
          if (!opening.open) {
            if (row?.first_checkin_at) { status = 'present'; summary.closed_days_attended++; }
          } else if (isCounted({ enrolledOn: user!.enrolled_on, deletedAt: user!.deleted_at }, date, tz, row !== null)) {
            if (date < rules.recordsFrom) {
              status = 'no_data';
              summary.no_data_days++;
            } else {
              const verdict = dayVerdict(day, clock);
              status = verdict.status;
              late = verdict.late;
              if (status === 'excused') summary.excused_days++;
              else summary.open_days++;
              if (status === 'present') summary.days_present++;
              if (late) summary.late_days++;
            }
          }
        }
        const anomalies = (row?.anomalies ?? []) as Anomaly[];
        for (const a of anomalies) summary.anomalies[a]++;
        return {
          date, open: opening.open, closed: opening.open ? null : { reason: opening.reason, label: opening.label }, status, late,
          mark: (row?.mark ?? null) as MarkKind | null, mark_reason: (row?.mark_reason ?? null) as MarkReason | null, mark_conflict: (row?.mark_conflict ?? null) as MarkConflict | null,
          seconds: day ? secondsAt(day, clock) : 0,
          first_checkin_at: row?.first_checkin_at?.toISOString() ?? null, last_event_at: row?.last_event_at?.toISOString() ?? null,
          last_event_type: row?.last_event_type ?? null, checked_in_now: row?.open_since != null && clock.kind === 'today', anomalies,
        };
      });
      // The figures' own computation for this one user: the page and the Figures tab never disagree.
      const periods = query.period && aggregatePresence({
        school: { timezone: tz, dayEnd, calendar: cal.calendar, ...rules }, period: query.period, from: query.from, to: query.to, now, completeUntil: null, includeUsers: true,
        users: [{ id: user!.id, enrolledOn: user!.enrolled_on, deletedAt: user!.deleted_at }],
        userDays: rows.map((r) => ({ userId: user!.id, date: r.date, seconds: r.seconds, openSince: r.open_since, checkedIn: r.first_checkin_at !== null, firstCheckinAt: r.first_checkin_at, mark: r.mark as MarkKind | null })),
      });
      summary.rate = attendanceRate(summary.days_present, summary.open_days);
      return reply.ok({
        user_id: user!.id, school_id: school.id, name: user!.name, badge: user!.badge, enrolled_on: user!.enrolled_on,
        from: query.from, to: query.to, timezone: tz, today, rule: presenceRule(school.attendance_threshold), records_from: recorded, summary, days,
        ...(periods && {
          periods: periods.buckets.map((b, i) => {
            const c = periods.users![0].counts[i];
            return {
              start: b.start, end: b.end, status: periods.users![0].statuses[i], rate: c?.rate ?? null, open_days: c?.openDays ?? 0, days_present: c?.daysPresent ?? 0,
              excused_days: c?.excusedDays ?? 0, late_days: c?.lateDays ?? 0,
            };
          }),
        }),
      });
    },
  });
}

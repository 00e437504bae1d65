// The aggregate endpoint's answer: buckets from stored user-days plus the live part, whether
// each bucket is final, which devices hold the rest back, and an ETag over all of it.
import { createHash } from 'node:crypto';
import type { DbOrTrx } from '../../db/database.js';
import { deviceCompleteness, figureUsers, usersFingerprint, userDaysFingerprint } from '../../db/repositories/figures.js';
import type { School } from '../../db/schema/index.js';
import { bucketEndInstant, bucketsFor, spanOf, type Period } from '../../shared/attendance/buckets.js';
import { aggregatePresence, presenceRule } from '../../shared/attendance/aggregate.js';
import { effectiveRecordsFrom, schoolDayRules } from './school-day.js';
import { loadSchoolCalendar } from '../calendar/school-calendar.js';
import { todayIn } from '../../shared/time/zoned.js';
import { cachedUserDays } from './user-day-cache.js';

export interface FiguresQuery {
  period: Period;
  from: string;
  to: string;
  includeUsers: boolean;
}

/** Answers for ranges that ended before today: nothing live in them, so equal inputs give equal answers. */
const pastAnswers = new Map<string, { key: string; body: Record<string, unknown>; etag: string }>();
const MAX_ANSWERS = 64;

export async function schoolFigures(db: DbOrTrx, school: School, q: FiguresQuery, now = new Date()) {
  const tz = school.timezone;
  const span = spanOf(bucketsFor(q.period, q.from, q.to))!;
  const today = todayIn(tz, now);
  const [daysPrint, usersPrint, devices, cal, recordsFrom] = await Promise.all([
    userDaysFingerprint(db, school.id, span.start, span.end),
    usersFingerprint(db, school.id),
    deviceCompleteness(db, school.id),
    loadSchoolCalendar(db, school),
    effectiveRecordsFrom(db, school),
  ]);
  const lastEnd = bucketEndInstant(span, tz);
  const horizon = Math.min(lastEnd.getTime(), now.getTime());
  // No active device: nothing can arrive late, the range is complete up to its horizon. Not
  // `now` itself: a past range's answer (and ETag) would then change on every call.
  const completeUntil = devices.length > 0 ? devices[0].complete_until : new Date(horizon);
  const pendingDevices = devices.filter((d) => d.complete_until.getTime() < horizon)
    .map((d) => ({ id: d.id, name: d.name, complete_until: d.complete_until.toISOString(), last_synced_at: d.last_synced_at?.toISOString() ?? null }));

  const cacheName = `${school.id}:${q.period}:${q.from}:${q.to}:${q.includeUsers}`;
  const inputs = JSON.stringify([daysPrint, usersPrint, completeUntil.getTime(), pendingDevices, today, school.updated_at.getTime(), cal.version, recordsFrom]);
  const past = span.end < today;
  const hit = past ? pastAnswers.get(cacheName) : undefined;
  if (hit && hit.key === inputs) return { body: { ...hit.body, generated_at: now.toISOString() }, etag: hit.etag };

  const [users, stored] = await Promise.all([figureUsers(db, school.id), cachedUserDays(db, school.id, span.start, span.end, daysPrint)]);
  const result = aggregatePresence({
    school: { timezone: tz, dayEnd: school.day_end.slice(0, 5), calendar: cal.calendar, ...schoolDayRules(school, recordsFrom, today) },
    period: q.period, from: q.from, to: q.to, now, completeUntil, includeUsers: q.includeUsers,
    users: users.map((u) => ({ id: u.id, enrolledOn: u.enrolled_on, deletedAt: u.deleted_at })),
    userDays: stored,
  });
  const names = new Map(users.map((u) => [String(u.id), u]));
  const body = {
    school_id: school.id,
    period: q.period,
    from: q.from,
    to: q.to,
    timezone: tz,
    today,
    complete_until: completeUntil.toISOString(),
    pending_devices: pendingDevices,
    rule: presenceRule(school.attendance_threshold),
    attendance_threshold: school.attendance_threshold,
    late_after: school.late_after?.slice(0, 5) ?? null,
    records_from: recordsFrom,
    calendar: { version: cal.version, shared_calendar: cal.shared && { id: cal.shared.id, name: cal.shared.name } },
    buckets: result.buckets.map((b, i) => {
      const days = result.days[i];
      return {
        ...b,
        ...(q.period === 'day' && { school_day: cal.calendar.isOpen(b.start) }),
        open_days: days.counted.length,
        counted_days: days.counted,
        skipped_days: days.skipped,
        attended_closed_days: days.attendedClosed,
        no_data_days: days.noData,
      };
    }),
    ...(result.users && {
      users: result.users.map((u) => {
        const user = names.get(String(u.userId));
        return {
          user_id: Number(u.userId), name: user?.name ?? null, badge: user?.badge ?? null, statuses: u.statuses,
          counts: u.counts.map((c) => c && { open_days: c.openDays, days_present: c.daysPresent, rate: c.rate, excused_days: c.excusedDays, late_days: c.lateDays }),
        };
      }),
    }),
  };
  // The ETag covers the stored rows (any change to them changes it) and the answer itself
  // (the live part moves with time even when no row changed); generated_at stays out of it.
  const etag = `"${createHash('sha256').update(inputs).update(JSON.stringify(body)).digest('base64url').slice(0, 32)}"`;
  if (past) {
    pastAnswers.delete(cacheName);
    pastAnswers.set(cacheName, { key: inputs, body, etag });
    if (pastAnswers.size > MAX_ANSWERS) pastAnswers.delete(pastAnswers.keys().next().value!);
  }
  return { body: { ...body, generated_at: now.toISOString() }, etag };
}

// Marks (DESIGN §4 "Marks"): staff state a user-day instead of measuring it — present, late,
// absent, or excused with a reason from the school's list — from the dashboard or a REST client,
// one day or a range of days ("ill from Monday to Wednesday"). Append-only: changing a mark is
// writing a new one. The touched user-days are recomputed in the request's own transaction, as
// an import does. Teachers' roll calls arrive on the device channel `appel` (docs/protocol/v4.md §7).
// Also: the school's attendance settings (threshold, late_after, records_from) and the days
// whose marks need a look.
import { z } from 'zod';
import type { DbOrTrx } from '../../db/database.js';
import { claimKey, recordAnswer, requestHash } from '../../db/repositories/idempotency.js';
import { insertMarks, listMarks, markConflicts } from '../../db/repositories/marks.js';
import { findSchool, updateSchool } from '../../db/repositories/schools.js';
import { refreshDays } from '../../db/repositories/user-days.js';
import { lockUser } from '../../db/repositories/users.js';
import { MARK_CONFLICTS, MARK_KINDS, MARK_REASONS, type MarkConflict, type MarkKind, type MarkReason } from '../../shared/attendance/marks.js';
import { Problem, validationFailed, type FieldError } from '../../shared/errors.js';
import { daysBetween, eachDate } from '../../shared/time/calendar.js';
import { todayIn } from '../../shared/time/zoned.js';
import { loadSchoolCalendar } from '../calendar/school-calendar.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolScope } from '../http/scope.js';
import { schoolOfRow } from '../../db/repositories/school-of.js';
import { errors, idParam, idQuery, localDate, pageOf, timestamp } from '../schemas/common.js';
import { presentSchool } from './schools.js';
import { schoolSchema } from '../schemas/resources.js';

/** An excuse covers at most this many days at once. */
export const MAX_MARK_RANGE_DAYS = 62;

const markKind = z.enum(MARK_KINDS as [MarkKind, ...MarkKind[]]);
const markReason = z.enum(MARK_REASONS as [MarkReason, ...MarkReason[]]);

export const markSchema = z.object({
  id: z.number().int(), school_id: z.number().int(), user_id: z.number().int(), date: z.string(),
  period: z.string().nullable().describe('Part of the day (a lesson, "morning"); null: the whole day'),
  mark: markKind, reason: markReason.nullable().describe('Required with excused, null otherwise'), note: z.string().nullable(),
  author_kind: z.enum(['staff', 'api', 'teacher']).describe('staff: the dashboard; api: a REST client; teacher: a roll call on a device (channel appel)'),
  staff_id: z.number().int().nullable().describe('The staff account that wrote it (staff, api)'),
  device_id: z.uuid().nullable().describe('The device of the roll call (teacher)'),
  record_id: z.number().int().nullable().describe("The device's own record id (teacher)"),
  marked_at: timestamp, created_at: timestamp,
}).meta({ id: 'Mark' });

const createBody = z.strictObject({
  user_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe("A user of the caller's school"),
  from: localDate.describe('The first day marked (school-local date)'),
  to: localDate.optional().describe('The last day, included (an excuse over several days); default: from. Only the days the school is open are marked'),
  period: z.string().trim().min(1).max(40).nullable().optional(),
  mark: markKind,
  reason: markReason.optional().describe('Required with excused: illness, medical, family, authorised_activity, other'),
  note: z.string().trim().max(500).optional(),
  via: z.enum(['dashboard', 'api']).default('api').describe("Who writes: the dashboard (author_kind staff) or a REST client (api); both rank as staff's"),
});
const createHeaders = z.object({
  'Idempotency-Key': z.string().min(1).max(200).optional().describe('Retry-safe create: the same key with the same body answers the first result again; with another body 409'),
});

const settingsBody = z.strictObject({
  attendance_threshold: z.number().int().min(0).max(100).optional().describe('Week/month: present on more than this percent of the counted days (default 80)'),
  late_after: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').nullable().optional().describe('HH:MM: a first check-in after it is late; null: no lateness'),
  records_from: localDate.nullable().optional().describe('Days before it are "no data"; null: the first day of recorded attendance'),
});

const present = (row: object) => JSON.parse(JSON.stringify(row)) as Record<string, unknown>;

async function schoolInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const school = await findSchool(db, id);
  assertInScope(auth, school?.id, 'school');
  return school!;
}

export function markRoutes(api: RouteRegistry): void {
  api.add({
    method: 'post', path: '/api/marks', summary: 'Mark a user present, late, absent or excused (with a reason) on a day or a range of days', tags: ['marks'], auth: 'staff',
    headers: createHeaders, body: createBody,
    responses: {
      201: { description: 'The marks written, one per open day of the range (a repeated Idempotency-Key answers the first result again)', schema: z.object({ items: z.array(markSchema) }) },
      ...errors(401, 409, 422),
    },
    async handler({ body, headers, db: trx, auth }) {
      const key = headers['Idempotency-Key'];
      if (key !== undefined) {
        const claim = await claimKey(trx, auth.staffId, `marks:${key}`, requestHash(body));
        if (claim.kind === 'mismatch') throw new Problem('idempotency_key_reused', 'This Idempotency-Key was used with another body');
        if (claim.kind === 'replay') return reply.status(claim.status, claim.body, { 'Idempotent-Replayed': 'true' });
      }
      const to = body.to ?? body.from;
      const problems: FieldError[] = [];
      const scope = schoolScope(auth);
      const userSchool = scope ?? await schoolOfRow(trx, 'users', body.user_id);
      const user = userSchool === undefined ? undefined : await lockUser(trx, userSchool, body.user_id);
      if (!user || (scope !== null && user.school_id !== scope)) problems.push({ field: 'body.user_id', message: 'unknown user' });
      if (body.mark === 'excused' && !body.reason) problems.push({ field: 'body.reason', message: 'an excuse needs a reason' });
      if (body.mark !== 'excused' && body.reason) problems.push({ field: 'body.reason', message: 'only an excuse has a reason' });
      if (to < body.from) problems.push({ field: 'body.to', message: 'must not be before from' });
      else if (daysBetween(body.from, to) >= MAX_MARK_RANGE_DAYS) problems.push({ field: 'body.to', message: `at most ${MAX_MARK_RANGE_DAYS} days at once` });
      if (problems.length > 0) throw validationFailed(problems);
      const school = (await findSchool(trx, user!.school_id))!;
      // Only an excuse may be written ahead (an announced absence); the others state what happened.
      if (body.mark !== 'excused' && body.from > todayIn(school.timezone, new Date())) throw validationFailed([{ field: 'body.from', message: 'in the future' }]);
      const cal = await loadSchoolCalendar(trx, school);
      const dates = eachDate(body.from, to).filter((d) => cal.calendar.isOpen(d));
      if (dates.length === 0) throw validationFailed([{ field: 'body.from', message: 'the school is not open on any of these days' }]);
      const markedAt = new Date();
      const rows = await insertMarks(trx, dates.map((date) => ({
        school_id: school.id, user_id: user!.id, date, period: body.period ?? null, mark: body.mark, reason: body.reason ?? null, note: body.note ?? null,
        author_kind: body.via === 'dashboard' ? 'staff' : 'api', staff_id: auth.staffId, device_id: null, record_id: null, session_id: null,
        idempotency_key: key ?? null, marked_at: markedAt,
      })));
      await refreshDays(trx, dates.map((date) => ({ schoolId: school.id, userId: user!.id, date })));
      const out = { items: rows.map(present) };
      if (key !== undefined) await recordAnswer(trx, auth.staffId, `marks:${key}`, 201, out);
      return reply.created(out);
    },
  });

  api.add({
    method: 'get', path: '/api/marks', summary: 'List marks in scope, in the order they were written', tags: ['marks'], auth: 'staff',
    query: z.object({ ...pageQuery, school_id: idQuery.optional(), user_id: idQuery.optional(), from: localDate.optional(), to: localDate.optional() }),
    responses: { 200: { description: 'A page of marks', schema: pageOf(markSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const rows = await listMarks(db, {
        schoolId: scope ?? query.school_id ?? null, userId: query.user_id, from: query.from, to: query.to,
        afterId: decodeCursor(query.cursor, z.number().int()), limit: query.limit + 1,
      });
      const page = toPage(rows, query.limit, (r) => r.id);
      return reply.ok({ ...page, items: page.items.map(present) });
    },
  });

  api.add({
    method: 'get', path: '/api/schools/:id/marks/conflicts', summary: 'User-days whose marks need a look: teachers disagree, or marked absent but checked in', tags: ['marks'], auth: 'staff',
    params: idParam, query: z.object({ from: localDate, to: localDate }),
    responses: {
      200: {
        description: 'Flagged user-days',
        schema: z.object({ items: z.array(z.object({
          user_id: z.number().int(), name: z.string(), badge: z.string(), date: z.string(), mark: markKind.nullable(),
          conflict: z.enum(MARK_CONFLICTS as [MarkConflict, ...MarkConflict[]]),
        })) }),
      },
      ...errors(401, 404, 422),
    },
    async handler({ params, query, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      const rows = await markConflicts(db, school.id, query.from, query.to);
      return reply.ok({ items: rows.map((r) => ({ user_id: r.user_id, name: r.name, badge: r.badge, date: r.date, mark: r.mark as MarkKind | null, conflict: r.mark_conflict as MarkConflict })) });
    },
  });

  api.add({
    method: 'patch', path: '/api/schools/:id/attendance-settings', summary: "The school's attendance settings: threshold, late_after, records_from", tags: ['marks'], auth: 'staff',
    params: idParam, body: settingsBody,
    responses: { 200: { description: 'The school', schema: schoolSchema }, ...errors(401, 404, 422) },
    async handler({ params, body, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      if (Object.keys(body).length === 0) return reply.ok(presentSchool(school));
      return reply.ok(presentSchool((await updateSchool(db, school.id, body))!));
    },
  });
}

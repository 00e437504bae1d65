// Attendance figures (DESIGN.md §4): presence by day, ISO week or month, who is in right now,
// and figure rebuilds with their progress.
import { z } from 'zod';
import { checkedInNow } from '../../db/repositories/figures.js';
import { findSchool } from '../../db/repositories/schools.js';
import { createRebuild, findRebuild } from '../../db/repositories/rebuilds.js';
import { validationFailed } from '../../shared/errors.js';
import { SKIP_REASONS, type SkipReason } from '../../shared/attendance/school-calendar.js';
import { QUEUES } from '../../shared/jobs.js';
import { addDays, daysBetween } from '../../shared/time/calendar.js';
import { todayIn } from '../../shared/time/zoned.js';
import { insertInTransaction } from '../../db/queue.js';
import { exportQuery, fileReply, langOf } from '../export/query.js';
import { figuresTable, figureUsersTable, type FiguresBody } from '../export/tables.js';
import { schoolFigures } from '../figures/school-figures.js';
import type { StaffAuth } from '../http/authenticate.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest } from '../http/scope.js';
import type { DbOrTrx } from '../../db/database.js';
import { errors, idParam, localDate } from '../schemas/common.js';

const MAX_RANGE_DAYS = 3 * 366;

const skippedDaySchema = z.object({
  date: z.string(),
  reason: z.enum(SKIP_REASONS as [SkipReason, ...SkipReason[]]).describe('not_a_school_day (weekday), out_of_term, holiday, public_holiday, closure, not_begun (after today)'),
  label: z.string().describe('The calendar entry\'s label ("Vacances de Noël"), the weekday, or "Not begun"'),
}).meta({ id: 'SkippedDay' });
export const bucketSchema = z.object({
  start: z.string(), end: z.string(), present: z.number().int(), absent: z.number().int(), total: z.number().int(), final: z.boolean(),
  school_day: z.boolean().optional().describe('Day buckets: the school is open that day (its calendar applied)'),
  open_days: z.number().int().describe('Open days of the bucket that have begun: the days counted'),
  counted_days: z.array(z.string()).describe('The open days counted, in order'),
  skipped_days: z.array(skippedDaySchema).describe('Every other day of the bucket, with why it was not counted'),
  attended_closed_days: z.array(z.string()).describe('Closed days on which someone checked in: on a day bucket they are present, nobody absent'),
  rate: z.number().nullable().describe('The attendance rate, what staff read first: days present / counted user-days, percent with one decimal; null when nothing is counted'),
  counted_user_days: z.number().int().describe('User-days counted: open, begun, on or after records_from, not excused'),
  days_present: z.number().int().describe('Of those, present'),
  excused: z.number().int().describe('Day: users excused that day; week/month: users excused on every counted day'),
  excused_days: z.number().int().describe('Excused user-days, out of the count'),
  late: z.number().int().describe('Day: users late; week/month: users late at least once'),
  late_days: z.number().int().describe('Late user-days (present, never absent)'),
  no_data: z.boolean().describe('Every open day of the bucket is before records_from: nothing recorded, no verdict'),
  no_data_days: z.array(z.string()).describe('Open days before records_from (also in skipped_days, reason no_data)'),
});
const ruleSchema = z.object({
  day: z.string(), period: z.string(), closed_day: z.string(), counted: z.string(), rate: z.string(), marks: z.string(), late: z.string(), no_data: z.string(),
  present_day_seconds: z.number().int(), period_threshold_percent: z.number().int(),
}).meta({ id: 'PresenceRule', description: 'The rule the figures applied, in words and numbers' });
export const figuresSchema = z.object({
  school_id: z.number().int(), period: z.enum(['day', 'week', 'month']), from: z.string(), to: z.string(), timezone: z.string(), today: z.string(),
  complete_until: z.string(),
  pending_devices: z.array(z.object({ id: z.uuid(), name: z.string(), complete_until: z.string(), last_synced_at: z.string().nullable() })),
  rule: ruleSchema,
  attendance_threshold: z.number().int().describe("The school's threshold: present over a week or month on more than this percent of the counted days"),
  late_after: z.string().nullable().describe('HH:MM; null: no lateness by the clock'),
  records_from: z.string().nullable().describe('Effective: the school\'s setting, or the first day of recorded attendance; null: nothing recorded yet (every day is no data)'),
  calendar: z.object({
    version: z.string().describe('Changes with any change of the school days, the entries or the subscription'),
    shared_calendar: z.object({ id: z.number().int(), name: z.string() }).nullable(),
  }),
  buckets: z.array(bucketSchema),
  users: z.array(z.object({
    user_id: z.number().int(), name: z.string().nullable(), badge: z.string().nullable(),
    statuses: z.array(z.enum(['present', 'absent', 'excused']).nullable()),
    counts: z.array(z.object({
      open_days: z.number().int().describe('Counted days: open, begun, recorded, not excused'), days_present: z.number().int(),
      rate: z.number().nullable().describe('days_present / open_days, percent'), excused_days: z.number().int(), late_days: z.number().int(),
    }).nullable())
      .describe('Per bucket, the counts behind the status (null: not counted)'),
  })).optional(),
  generated_at: z.string(),
}).meta({ id: 'SchoolFigures' });

export const presenceNowSchema = z.object({
  school_id: z.number().int(), as_of: z.string(), today: z.string(), count: z.number().int(),
  items: z.array(z.object({ user_id: z.number().int(), name: z.string(), badge: z.string(), since: z.string() })),
});

export const rebuildSchema = z.object({
  id: z.number().int(), kind: z.literal('rebuild-figures'), school_id: z.number().int(), from: z.string(), to: z.string(),
  chunks_total: z.number().int(), chunks_done: z.number().int(), chunks_failed: z.number().int(), days_changed: z.number().int(),
  status: z.enum(['running', 'done', 'failed']), created_at: z.string(), finished_at: z.string().nullable(),
  requested_by: z.number().int().nullable().describe('The staff account that started it; null once that account is deleted'),
  requested_by_email: z.string().nullable(),
}).meta({ id: 'Job' });

async function schoolInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const school = await findSchool(db, id);
  assertInScope(auth, school?.id, 'school');
  return school!;
}

function rebuildView(r: NonNullable<Awaited<ReturnType<typeof findRebuild>>>) {
  const finished = r.chunks_done + r.chunks_failed >= r.chunks_total;
  return {
    id: r.id, kind: 'rebuild-figures' as const, school_id: r.school_id, from: r.from_date, to: r.to_date,
    chunks_total: r.chunks_total, chunks_done: r.chunks_done, chunks_failed: r.chunks_failed, days_changed: r.days_changed,
    status: !finished ? 'running' : r.chunks_failed > 0 ? 'failed' : 'done',
    created_at: r.created_at.toISOString(), finished_at: r.finished_at?.toISOString() ?? null,
    requested_by: r.requested_by, requested_by_email: r.requested_by_email,
  };
}

export function figureRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/attendances/aggregate/school/:id', summary: 'Presence figures by day, ISO week or month', tags: ['figures'], auth: 'staff',
    params: idParam,
    query: z.object({
      period: z.enum(['day', 'week', 'month']).default('day'),
      from: localDate,
      to: localDate,
      include: z.enum(['users']).optional(),
      ...exportQuery,
      table: z.enum(['buckets', 'users']).default('buckets').describe('With format csv or xlsx: the figures per period (buckets) or each pupil\'s verdict per period (users)'),
    }),
    responses: { 200: { description: 'Buckets', schema: figuresSchema }, 304: { description: 'Not modified (If-None-Match)' }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth, req }) {
      const school = await schoolInScope(db, auth, params.id);
      if (query.from > query.to) throw validationFailed([{ field: 'query.to', message: 'must not be before from' }]);
      if (daysBetween(query.from, query.to) > MAX_RANGE_DAYS) throw validationFailed([{ field: 'query.to', message: `the range is limited to ${MAX_RANGE_DAYS} days` }]);
      if (query.format !== 'json') {
        const { body } = await schoolFigures(db, school, { period: query.period, from: query.from, to: query.to, includeUsers: query.table === 'users' });
        const f = body as unknown as FiguresBody;
        const name = `${school.name}-${query.table === 'users' ? 'pupils' : 'figures'}-${query.period}-${query.from}-${query.to}`;
        return query.table === 'users' ? fileReply(figureUsersTable(f, langOf(query, req)), query.format, query, req, name) : fileReply(figuresTable(f), query.format, query, req, name);
      }
      const { body, etag } = await schoolFigures(db, school, { period: query.period, from: query.from, to: query.to, includeUsers: query.include === 'users' });
      const headers = { ETag: etag, 'Cache-Control': 'private, no-cache' };
      if (req.headers['if-none-match'] === etag) return reply.notModified(headers);
      return reply.ok(body, headers);
    },
  });

  api.add({
    method: 'get', path: '/api/schools/:id/presence/now', summary: 'Who is checked in right now', tags: ['figures'], auth: 'staff',
    params: idParam,
    responses: {
      200: {
        description: 'Checked in now',
        schema: presenceNowSchema,
      },
      ...errors(401, 404),
    },
    async handler({ params, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      const now = new Date();
      const today = todayIn(school.timezone, now);
      const rows = await checkedInNow(db, school.id, today);
      return reply.ok({
        school_id: school.id, as_of: now.toISOString(), today, count: rows.length,
        items: rows.map((r) => ({ user_id: r.user_id, name: r.name, badge: r.badge, since: r.since!.toISOString() })),
      });
    },
  });

  api.add({
    method: 'post', path: '/api/schools/:id/rebuild-figures', summary: 'Recompute the figures of a date range, in one-week chunks run in parallel', tags: ['figures'], auth: 'backoffice',
    params: idParam, body: z.object({ from: localDate, to: localDate }),
    responses: { 202: { description: 'Started; follow it at /api/jobs/:id', schema: rebuildSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db: trx, auth, ctx }) {
      const school = await schoolInScope(trx, auth, params.id);
      if (body.from > body.to) throw validationFailed([{ field: 'body.to', message: 'must not be before from' }]);
      if (daysBetween(body.from, body.to) > MAX_RANGE_DAYS) throw validationFailed([{ field: 'body.to', message: `the range is limited to ${MAX_RANGE_DAYS} days` }]);
      const chunks: Array<{ from: string; to: string }> = [];
      for (let start = body.from; start <= body.to; start = addDays(start, 7)) {
        const end = addDays(start, 6);
        chunks.push({ from: start, to: end < body.to ? end : body.to });
      }
      const rebuild = await createRebuild(trx, { school_id: school.id, from_date: body.from, to_date: body.to, chunks_total: chunks.length, requested_by: auth.staffId });
      // The chunk jobs commit with the rebuild row: a rebuild is never half-enqueued.
      await insertInTransaction(ctx.boss, trx, QUEUES.rebuildChunk, chunks.map((c) => ({ data: { rebuild_id: rebuild.id, school_id: school.id, from: c.from, to: c.to } })));
      return reply.accepted(rebuildView(rebuild), { Location: `/api/jobs/${rebuild.id}` });
    },
  });

  api.add({
    method: 'get', path: '/api/jobs/:id', summary: 'Progress of a background job (figure rebuilds)', tags: ['figures'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The job', schema: rebuildSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const schoolId = await schoolOfRequest(db, auth, 'figure_rebuilds', params.id);
      const rebuild = schoolId === null ? undefined : await findRebuild(db, schoolId, params.id);
      assertInScope(auth, rebuild?.school_id, 'job');
      return reply.ok(rebuildView(rebuild!));
    },
  });
}

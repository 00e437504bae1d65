// School calendars (DESIGN §4 "Open days"). Shared calendars (`/api/calendars`, a region's
// holidays) are kept by the backoffice; a school subscribes to at most one and keeps its own
// entries (`/api/schools/:id/calendar`, the school's admins and the backoffice). Both take an
// iCalendar import, idempotent by UID, with a dry run that says what would change.
import express from 'express';
import { z } from 'zod';
import type { DbOrTrx } from '../../db/database.js';
import {
  deleteCalendar, deleteEntry, entriesByUid, findCalendar, findEntry, insertCalendar, insertEntry, listCalendars, listEntries,
  setSubscription, subscriptionOf, updateCalendar, updateEntry, type EntryOwner,
} from '../../db/repositories/calendars.js';
import { findSchool } from '../../db/repositories/schools.js';
import type { CalendarEntryRow } from '../../db/schema/index.js';
import { recordAudit } from '../../db/repositories/staff-audit.js';
import { kindOfCategory } from '../../shared/attendance/category-kind.js';
import { IcsError, readIcs, type IcsRange } from '../../shared/attendance/ics-calendar.js';
import { ENTRY_KINDS, SKIP_REASONS, type EntryKind, type SkipReason } from '../../shared/attendance/school-calendar.js';
import { notFound, Problem, validationFailed } from '../../shared/errors.js';
import { daysBetween, eachDate } from '../../shared/time/calendar.js';
import { isValidTimeZone } from '../../shared/time/zoned.js';
import { loadSchoolCalendar } from '../calendar/school-calendar.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope } from '../http/scope.js';
import { errors, idParam, localDate, pageOf, queryFlag, timestamp } from '../schemas/common.js';

/** Longest single entry: a school year with margin. */
const MAX_ENTRY_DAYS = 400;
const MAX_DAYS_LISTED = 366;

const kind = z.enum(ENTRY_KINDS as [EntryKind, ...EntryKind[]])
  .describe('term: open within it (once any term exists, days outside every term are closed); holiday, public_holiday, closure: closed');
const entryBody = z.strictObject({
  kind,
  label: z.string().trim().min(1).max(200).describe('Shown with the figures, e.g. "Vacances de Noël" or "Strike"'),
  starts_on: localDate,
  ends_on: localDate.describe('Last day, included'),
});
const entryPatch = entryBody.partial();

const calendarSchema = z.object({
  id: z.number().int(), name: z.string(), region: z.string().nullable(),
  timezone: z.string().describe('IANA zone: places an imported file\'s UTC times on local days'),
  created_at: timestamp, updated_at: timestamp,
}).meta({ id: 'SharedCalendar' });
const zoneField = z.string().max(64).refine(isValidTimeZone, 'not an IANA time zone');
export const entrySchema = z.object({
  id: z.number().int(), kind, label: z.string(), starts_on: z.string(), ends_on: z.string(),
  uid: z.string().nullable().describe('The iCalendar UID it was imported from'),
  source: z.enum(['school', 'shared']).describe('The school\'s own entry, or its shared calendar\'s'),
  calendar_id: z.number().int().nullable(), school_id: z.number().int().nullable(), created_at: timestamp, updated_at: timestamp,
}).meta({ id: 'CalendarEntry' });
const dayOpeningSchema = z.object({
  date: z.string(), open: z.boolean(),
  reason: z.enum(SKIP_REASONS.filter((r) => r !== 'not_begun') as [SkipReason, ...SkipReason[]]).nullable(),
  label: z.string().nullable(),
}).meta({ id: 'CalendarDay' });
export const schoolCalendarSchema = z.object({
  school_id: z.number().int(), timezone: z.string(), school_days: z.array(z.number().int()),
  version: z.string().describe('Also in the figures\' answer: changes with any change of the calendar'),
  shared_calendar: calendarSchema.nullable(),
  entries: z.array(entrySchema),
  days: z.array(dayOpeningSchema).optional().describe('With from and to: every day of the range, open or closed and why'),
}).meta({ id: 'SchoolCalendar' });
const kindSource = z.enum(['mapping', 'category', 'default'])
  .describe('mapping: the categories parameter named it; category: a word of the file\'s CATEGORIES (Vacances, Holiday, Jour férié, Grève, Strike, Fermeture, Term…); default: the kind parameter');
export const importSchema = z.object({
  dry_run: z.boolean(), kind: kind.describe('The kind of events whose categories name none'), calendar_name: z.string().nullable(),
  categories: z.array(z.object({
    name: z.string().describe('A CATEGORIES value of the file ("" for the events without one)'), kind, source: kindSource,
    events: z.number().int(),
  })).describe('The mapping applied, one row per category of the file: what the preview shows and lets the person importing change'),
  summary: z.object({ added: z.number().int(), changed: z.number().int(), unchanged: z.number().int(), skipped: z.number().int() }),
  items: z.array(z.object({
    uid: z.string(), action: z.enum(['add', 'change', 'unchanged']), entry_id: z.number().int().nullable(),
    kind, kind_source: kindSource, categories: z.array(z.string()), label: z.string(), starts_on: z.string(), ends_on: z.string(),
    before: z.object({ kind, label: z.string(), starts_on: z.string(), ends_on: z.string() }).nullable(),
  })),
  skipped: z.array(z.object({
    uid: z.string().nullable(), label: z.string().nullable(),
    reason: z.string().describe('cancelled, no_start, ends_before_start, too_long (over 400 days), too_many_occurrences (the file yields over 2 000 entries: later events are not read), recurrence_unbounded (a rule that takes too long to expand; docs/CALENDAR.md "Limits")'),
  })),
}).meta({ id: 'CalendarImport' });

/** `{"Grève": "closure", "": "holiday"}`: a kind per category of the file ("" for events without one). */
const categoryMap = z.string().max(4000).transform((text, ctx) => {
  try {
    const parsed = z.record(z.string().max(100), kind).safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch { /* below */ }
  ctx.addIssue({ code: 'custom', message: 'a JSON object of category → kind (term, holiday, public_holiday, closure)' });
  return z.NEVER;
});
const importQuery = z.object({
  kind: kind.default('holiday').describe('The kind of an event whose CATEGORIES name no kind (or that has none): holiday by default'),
  categories: categoryMap.optional().describe('JSON: a kind per CATEGORIES value, over what the words say, e.g. {"Grève":"closure","Journée banalisée":"closure"}; "" for events without a category'),
  dry_run: queryFlag.default(false).describe('true: answer what would change, change nothing'),
});
const icsBody = { contentType: 'text/calendar', schema: z.string().describe('An iCalendar (.ics) file, RFC 5545'), description: 'The .ics file as it was published' };
const icsParser = express.text({ type: ['text/calendar', 'text/plain', 'application/octet-stream'], limit: '1mb' });
const entryIdParams = z.object({ id: idParam.shape.id, entry_id: idParam.shape.id });

function presentEntry(e: CalendarEntryRow) {
  return { ...e, source: e.school_id === null ? 'shared' as const : 'school' as const };
}

function checkRange(startsOn: string, endsOn: string, prefix: string): void {
  if (startsOn > endsOn) throw validationFailed([{ field: `${prefix}.ends_on`, message: 'must not be before starts_on' }]);
  if (daysBetween(startsOn, endsOn) >= MAX_ENTRY_DAYS) throw validationFailed([{ field: `${prefix}.ends_on`, message: `an entry spans at most ${MAX_ENTRY_DAYS} days` }]);
}

async function schoolInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const school = await findSchool(db, id);
  assertInScope(auth, school?.id, 'school');
  return school!;
}

/** A school admin may read only the shared calendar their school subscribes to. */
async function readableCalendar(db: DbOrTrx, auth: StaffAuth, id: number) {
  const calendar = await findCalendar(db, id);
  if (!calendar) throw notFound('calendar');
  if (auth.role !== 'backoffice') {
    const mine = auth.schoolId === null ? null : await subscriptionOf(db, auth.schoolId);
    if (mine?.id !== id) throw notFound('calendar');
  }
  return calendar;
}

/**
 * Reads the file, then per UID: add, change (label or dates or kind differ) or unchanged.
 * The same file twice: all unchanged. Entries not in the file stay (a new year's file does
 * not delete last year's). `dryRun` answers the same without writing.
 */
/** The kind of one event: the mapping for one of its categories, else a word of one, else the default. */
function kindOf(r: IcsRange, mapping: Record<string, EntryKind>, fallback: EntryKind): { kind: EntryKind; source: 'mapping' | 'category' | 'default'; category: string } {
  const names = r.categories.length ? r.categories : [''];
  for (const name of names) if (Object.hasOwn(mapping, name)) return { kind: mapping[name], source: 'mapping', category: name };
  for (const name of names) {
    const known = name ? kindOfCategory(name) : null;
    if (known) return { kind: known, source: 'category', category: name };
  }
  return { kind: fallback, source: 'default', category: names[0] };
}

async function importIcs(db: DbOrTrx, owner: EntryOwner, text: unknown, opts: { kind: EntryKind; mapping: Record<string, EntryKind>; dryRun: boolean; timezone: string }) {
  if (typeof text !== 'string' || text.length === 0) {
    throw new Problem('bad_request', 'Send the .ics file as the request body with Content-Type: text/calendar');
  }
  let parsed;
  try {
    // Bounded in size, steps and time (docs/CALENDAR.md "Limits"): it runs on the event loop.
    parsed = readIcs(text, opts.timezone, { maxEntryDays: MAX_ENTRY_DAYS });
  } catch (err) {
    if (err instanceof IcsError) throw validationFailed([{ field: 'body', message: err.message }]);
    throw err;
  }
  const skipped: Array<{ uid: string | null; label: string | null; reason: string }> = parsed.skipped;
  // The last occurrence of a UID in the file wins, as a calendar client would show it.
  const byUid = new Map(parsed.ranges.map((r) => [r.uid, r]));
  const existing = new Map((await entriesByUid(db, owner, [...byUid.keys()])).map((e) => [e.uid!, e]));
  const items = [];
  const summary = { added: 0, changed: 0, unchanged: 0, skipped: skipped.length };
  const categories = new Map<string, { name: string; kind: EntryKind; source: 'mapping' | 'category' | 'default'; events: number }>();
  for (const r of byUid.values()) {
    const chosen = kindOf(r, opts.mapping, opts.kind);
    for (const name of r.categories.length ? r.categories : ['']) {
      const row = categories.get(name) ?? categories.set(name, { name, ...kindOf({ ...r, categories: name ? [name] : [] }, opts.mapping, opts.kind), events: 0 }).get(name)!;
      row.events++;
    }
    const values = { kind: chosen.kind, label: r.label, starts_on: r.startsOn, ends_on: r.endsOn };
    const old = existing.get(r.uid);
    const action = !old ? 'add' as const
      : old.kind === values.kind && old.label === values.label && old.starts_on === values.starts_on && old.ends_on === values.ends_on ? 'unchanged' as const : 'change' as const;
    let entryId = old?.id ?? null;
    if (!opts.dryRun && action === 'add') entryId = (await insertEntry(db, owner, { ...values, uid: r.uid })).id;
    if (!opts.dryRun && action === 'change') await updateEntry(db, owner, old!.id, values);
    summary[action === 'add' ? 'added' : action === 'change' ? 'changed' : 'unchanged']++;
    items.push({
      uid: r.uid, action, entry_id: entryId, kind: chosen.kind, kind_source: chosen.source, categories: r.categories, label: r.label, starts_on: r.startsOn, ends_on: r.endsOn,
      before: old && action === 'change' ? { kind: old.kind, label: old.label, starts_on: old.starts_on, ends_on: old.ends_on } : null,
    });
  }
  return {
    dry_run: opts.dryRun, kind: opts.kind, calendar_name: parsed.calendarName,
    categories: [...categories.values()].map(({ name, kind: k, source, events }) => ({ name, kind: k, source, events })),
    summary, items, skipped,
  };
}

async function schoolCalendarView(db: DbOrTrx, school: NonNullable<Awaited<ReturnType<typeof findSchool>>>, range: { from?: string; to?: string }) {
  const cal = await loadSchoolCalendar(db, school);
  const entries = cal.entries.filter((e) => (!range.from || e.ends_on >= range.from) && (!range.to || e.starts_on <= range.to));
  return {
    school_id: school.id, timezone: school.timezone, school_days: school.school_days, version: cal.version,
    shared_calendar: cal.shared, entries: entries.map(presentEntry),
    ...(range.from && range.to && {
      days: eachDate(range.from, range.to).map((date) => {
        const o = cal.calendar.opening(date);
        return o.open ? { date, open: true, reason: null, label: null } : { date, open: false, reason: o.reason, label: o.label };
      }),
    }),
  };
}

const rangeQuery = z.object({ from: localDate.optional(), to: localDate.optional() });
function checkQueryRange(q: { from?: string; to?: string }): void {
  if (q.from && q.to && q.from > q.to) throw validationFailed([{ field: 'query.to', message: 'must not be before from' }]);
  if (q.from && q.to && daysBetween(q.from, q.to) >= MAX_DAYS_LISTED) throw validationFailed([{ field: 'query.to', message: `the range is limited to ${MAX_DAYS_LISTED} days` }]);
}

/** The four entry routes and the import, for one kind of owner. */
interface Owner { owner: EntryOwner; timezone: string; schoolId: number | null }

/** One audit row for a write on an owner's entries (a school's own: that school; a shared calendar's: none). */
function audit(db: DbOrTrx, auth: StaffAuth, own: Owner, action: string, subjectId: number | null, details: Record<string, unknown>) {
  const subject = action.startsWith('calendar_entry') ? 'calendar_entry' : 'calendar';
  const calendar = 'calendarId' in own.owner ? { calendar_id: own.owner.calendarId } : {};
  return recordAudit(db, { staffId: auth.staffId, schoolId: own.schoolId, action, subject, subjectId, details: { ...calendar, ...details } });
}

function entryRoutes(api: RouteRegistry, base: string, tag: string, who: 'staff' | 'backoffice', ownerOf: (db: DbOrTrx, auth: StaffAuth, id: number) => Promise<Owner>, readOwner: (db: DbOrTrx, auth: StaffAuth, id: number) => Promise<unknown>) {
  const denied = who === 'backoffice' ? [403] : [];
  api.add({
    method: 'get', path: `${base}/entries`, summary: 'List calendar entries, by first day', tags: [tag], auth: 'staff',
    params: idParam, query: rangeQuery,
    responses: { 200: { description: 'The entries overlapping from–to (all without them)', schema: z.object({ items: z.array(entrySchema) }) }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      checkQueryRange(query);
      await readOwner(db, auth, params.id);
      const { owner } = await ownerOf(db, auth, params.id);
      return reply.ok({ items: (await listEntries(db, owner, query)).map(presentEntry) });
    },
  });
  api.add({
    method: 'post', path: `${base}/entries`, summary: 'Add a calendar entry (term, holiday, public holiday or closure)', tags: [tag], auth: who,
    params: idParam, body: entryBody,
    responses: { 201: { description: 'Added', schema: entrySchema }, ...errors(401, ...denied, 404, 422) },
    async handler({ params, body, db, auth }) {
      const own = await ownerOf(db, auth as StaffAuth, params.id);
      checkRange(body.starts_on, body.ends_on, 'body');
      const entry = await insertEntry(db, own.owner, body);
      await audit(db, auth as StaffAuth, own, 'calendar_entry.create', entry.id, { entry: body });
      return reply.created(presentEntry(entry));
    },
  });
  api.add({
    method: 'patch', path: `${base}/entries/:entry_id`, summary: 'Change a calendar entry', tags: [tag], auth: who,
    params: entryIdParams, body: entryPatch,
    responses: { 200: { description: 'Changed', schema: entrySchema }, ...errors(401, ...denied, 404, 422) },
    async handler({ params, body, db, auth }) {
      const own = await ownerOf(db, auth as StaffAuth, params.id);
      const entry = await findEntry(db, own.owner, params.entry_id);
      if (!entry) throw notFound('calendar entry');
      checkRange(body.starts_on ?? entry.starts_on, body.ends_on ?? entry.ends_on, 'body');
      const changed = Object.keys(body).length === 0 ? entry : await updateEntry(db, own.owner, entry.id, body);
      if (Object.keys(body).length > 0) {
        const before = Object.fromEntries(Object.keys(body).map((k) => [k, entry[k as keyof typeof body]]));
        await audit(db, auth as StaffAuth, own, 'calendar_entry.update', entry.id, { before, after: body });
      }
      return reply.ok(presentEntry(changed!));
    },
  });
  api.add({
    method: 'delete', path: `${base}/entries/:entry_id`, summary: 'Delete a calendar entry', tags: [tag], auth: who,
    params: entryIdParams,
    responses: { 204: { description: 'Deleted' }, ...errors(401, ...denied, 404, 422) },
    async handler({ params, db, auth }) {
      const own = await ownerOf(db, auth as StaffAuth, params.id);
      const gone = await deleteEntry(db, own.owner, params.entry_id);
      if (!gone) throw notFound('calendar entry');
      await audit(db, auth as StaffAuth, own, 'calendar_entry.delete', gone.id, { entry: { kind: gone.kind, label: gone.label, starts_on: gone.starts_on, ends_on: gone.ends_on, uid: gone.uid } });
      return reply.noContent();
    },
  });
  api.add({
    method: 'post', path: `${base}/import`, tags: [tag], auth: who,
    summary: 'Import an iCalendar (.ics) file: one entry per event, keyed by UID (importing the same file again changes nothing); dry_run=true previews',
    params: idParam, query: importQuery.extend(who === 'backoffice' ? { timezone: zoneField.optional().describe('Places UTC date-times on local days; the calendar\'s own timezone when absent') } : {}),
    middleware: [icsParser], requestBody: icsBody,
    responses: { 200: { description: 'What changed (or would change, in a dry run)', schema: importSchema }, ...errors(400, 401, ...denied, 404, 413, 415, 422) },
    async handler({ params, query, db, auth, req }) {
      const own = await ownerOf(db, auth as StaffAuth, params.id);
      const tz = (query as { timezone?: string }).timezone ?? own.timezone;
      const report = await importIcs(db, own.owner, req.body, { kind: query.kind, mapping: query.categories ?? {}, dryRun: query.dry_run, timezone: tz });
      if (!query.dry_run && (report.summary.added > 0 || report.summary.changed > 0)) {
        await audit(db, auth as StaffAuth, own, 'calendar.import', 'calendarId' in own.owner ? own.owner.calendarId : null, {
          calendar_name: report.calendar_name, summary: report.summary,
          categories: report.categories, entries: report.items.filter((i) => i.action !== 'unchanged').slice(0, 200).map((i) => ({ id: i.entry_id, action: i.action, kind: i.kind, label: i.label, starts_on: i.starts_on, ends_on: i.ends_on })),
        });
      }
      return reply.ok(report);
    },
  });
}

export function calendarRoutes(api: RouteRegistry): void {
  // ---- shared calendars ----
  api.add({
    method: 'get', path: '/api/calendars', summary: 'List shared calendars (a school admin sees the one their school subscribes to)', tags: ['calendars'], auth: 'staff',
    query: z.object(pageQuery),
    responses: { 200: { description: 'A page of shared calendars, by id', schema: pageOf(calendarSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const after = decodeCursor(query.cursor, z.number().int());
      let onlyId: number | null = null;
      if (auth.role !== 'backoffice') onlyId = (auth.schoolId === null ? null : await subscriptionOf(db, auth.schoolId))?.id ?? -1;
      return reply.ok(toPage(await listCalendars(db, { onlyId, afterId: after, limit: query.limit + 1 }), query.limit, (c) => c.id));
    },
  });
  api.add({
    method: 'post', path: '/api/calendars', summary: 'Create a shared calendar (a region\'s holidays)', tags: ['calendars'], auth: 'backoffice',
    body: z.strictObject({
      name: z.string().trim().min(1).max(200), region: z.string().trim().max(200).nullable().optional(),
      timezone: zoneField.optional().describe('IANA zone placing an imported file\'s UTC times on local days (UTC when absent)'),
    }),
    responses: { 201: { description: 'Created', schema: calendarSchema }, ...errors(401, 403, 422) },
    async handler({ body, db, auth }) {
      const calendar = await insertCalendar(db, body);
      await recordAudit(db, { staffId: auth.staffId, schoolId: null, action: 'calendar.create', subject: 'calendar', subjectId: calendar.id, details: { calendar: body } });
      return reply.created(calendar);
    },
  });
  api.add({
    method: 'get', path: '/api/calendars/:id', summary: 'Show a shared calendar', tags: ['calendars'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The calendar', schema: calendarSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      return reply.ok(await readableCalendar(db, auth, params.id));
    },
  });
  api.add({
    method: 'patch', path: '/api/calendars/:id', summary: 'Rename a shared calendar', tags: ['calendars'], auth: 'backoffice',
    params: idParam, body: z.strictObject({ name: z.string().trim().min(1).max(200).optional(), region: z.string().trim().max(200).nullable().optional(), timezone: zoneField.optional() }),
    responses: { 200: { description: 'Changed', schema: calendarSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db, auth }) {
      const calendar = Object.keys(body).length === 0 ? await findCalendar(db, params.id) : await updateCalendar(db, params.id, body);
      if (!calendar) throw notFound('calendar');
      if (Object.keys(body).length > 0) await recordAudit(db, { staffId: auth.staffId, schoolId: null, action: 'calendar.update', subject: 'calendar', subjectId: calendar.id, details: { after: body } });
      return reply.ok(calendar);
    },
  });
  api.add({
    method: 'delete', path: '/api/calendars/:id', summary: 'Delete a shared calendar no school subscribes to, with its entries', tags: ['calendars'], auth: 'backoffice',
    params: idParam,
    responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 409, 422) },
    async handler({ params, db, auth }) {
      switch (await deleteCalendar(db, params.id)) {
        case 'not_found': throw notFound('calendar');
        case 'in_use': throw new Problem('conflict', 'Schools subscribe to this calendar: move them to another one (or none) first');
        case 'deleted':
          await recordAudit(db, { staffId: auth.staffId, schoolId: null, action: 'calendar.delete', subject: 'calendar', subjectId: params.id });
          return reply.noContent();
      }
    },
  });
  entryRoutes(api, '/api/calendars/:id', 'calendars', 'backoffice',
    async (db, _auth, id) => {
      const calendar = await findCalendar(db, id);
      if (!calendar) throw notFound('calendar');
      return { owner: { calendarId: id }, timezone: calendar.timezone, schoolId: null };
    },
    (db, auth, id) => readableCalendar(db, auth, id));

  // ---- a school's calendar ----
  api.add({
    method: 'get', path: '/api/schools/:id/calendar', summary: 'The school\'s effective calendar: school days, shared calendar, every entry; with from and to, each day open or closed and why', tags: ['calendars'], auth: 'staff',
    params: idParam, query: rangeQuery,
    responses: { 200: { description: 'The calendar', schema: schoolCalendarSchema }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      checkQueryRange(query);
      if ((query.from === undefined) !== (query.to === undefined)) throw validationFailed([{ field: query.from ? 'query.to' : 'query.from', message: 'from and to go together' }]);
      return reply.ok(await schoolCalendarView(db, await schoolInScope(db, auth, params.id), query));
    },
  });
  api.add({
    method: 'put', path: '/api/schools/:id/calendar', summary: 'Subscribe the school to a shared calendar (null: none)', tags: ['calendars'], auth: 'backoffice',
    params: idParam, body: z.strictObject({ shared_calendar_id: z.number().int().positive().nullable() }),
    responses: { 200: { description: 'The calendar', schema: schoolCalendarSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      if (body.shared_calendar_id !== null && !(await findCalendar(db, body.shared_calendar_id))) {
        throw validationFailed([{ field: 'body.shared_calendar_id', message: 'no such calendar' }]);
      }
      await setSubscription(db, school.id, body.shared_calendar_id);
      await recordAudit(db, { staffId: auth.staffId, schoolId: school.id, action: 'calendar.subscribe', subject: 'school', subjectId: school.id, details: { shared_calendar_id: body.shared_calendar_id } });
      return reply.ok(await schoolCalendarView(db, school, {}));
    },
  });
  entryRoutes(api, '/api/schools/:id/calendar', 'calendars', 'staff',
    async (db, auth, id) => {
      const school = await schoolInScope(db, auth, id);
      return { owner: { schoolId: school.id }, timezone: school.timezone, schoolId: school.id };
    },
    (db, auth, id) => schoolInScope(db, auth, id));
}

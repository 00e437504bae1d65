// Shared calendars, calendar entries (a shared calendar's or a school's own), subscriptions,
// and the UID-keyed import of iCalendar ranges.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { Calendar, CalendarEntryRow } from '../schema/index.js';
import type { EntryKind } from '../../shared/attendance/school-calendar.js';

/** Whose entries: a shared calendar's or one school's own. */
export type EntryOwner = { calendarId: number } | { schoolId: number };

const ENTRY_FIELDS = ['id', 'calendar_id', 'school_id', 'kind', 'label', 'starts_on', 'ends_on', 'uid', 'created_at', 'updated_at'] as const;

export async function insertCalendar(db: DbOrTrx, values: { name: string; region?: string | null; timezone?: string }): Promise<Calendar> {
  return db.insertInto('calendars').values({ name: values.name, region: values.region ?? null, ...(values.timezone && { timezone: values.timezone }) }).returningAll().executeTakeFirstOrThrow();
}

export async function findCalendar(db: DbOrTrx, id: number): Promise<Calendar | undefined> {
  return db.selectFrom('calendars').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateCalendar(db: DbOrTrx, id: number, patch: { name?: string; region?: string | null; timezone?: string }): Promise<Calendar | undefined> {
  return db.updateTable('calendars').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Only a calendar no school subscribes to may go; its entries go with it. */
export async function deleteCalendar(trx: Trx, id: number): Promise<'deleted' | 'not_found' | 'in_use'> {
  const found = await trx.selectFrom('calendars').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  if (!found) return 'not_found';
  const used = await trx.selectFrom('calendar_subscriptions').select('school_id').where('calendar_id', '=', id).limit(1).executeTakeFirst();
  if (used) return 'in_use';
  await trx.deleteFrom('calendars').where('id', '=', id).execute();
  return 'deleted';
}

/** `onlyId`: a school admin sees only the calendar their school subscribes to (-1: none). */
export async function listCalendars(db: DbOrTrx, opts: { onlyId: number | null; afterId: number | null; limit: number }): Promise<Calendar[]> {
  let q = db.selectFrom('calendars').selectAll().orderBy('id').limit(opts.limit);
  if (opts.onlyId !== null) q = q.where('id', '=', opts.onlyId);
  if (opts.afterId !== null) q = q.where('id', '>', opts.afterId);
  return q.execute();
}

export async function subscriptionOf(db: DbOrTrx, schoolId: number): Promise<Calendar | null> {
  const row = await db.selectFrom('calendar_subscriptions as s').innerJoin('calendars as c', 'c.id', 's.calendar_id')
    .selectAll('c').where('s.school_id', '=', schoolId).executeTakeFirst();
  return row ?? null;
}

export async function setSubscription(db: DbOrTrx, schoolId: number, calendarId: number | null): Promise<void> {
  if (calendarId === null) {
    await db.deleteFrom('calendar_subscriptions').where('school_id', '=', schoolId).execute();
    return;
  }
  await db.insertInto('calendar_subscriptions').values({ school_id: schoolId, calendar_id: calendarId })
    .onConflict((oc) => oc.column('school_id').doUpdateSet({ calendar_id: calendarId, created_at: new Date() })).execute();
}

function ownedBy<Q extends { where: (...args: any[]) => Q }>(q: Q, owner: EntryOwner): Q {
  return 'calendarId' in owner ? q.where('calendar_id', '=', owner.calendarId) : q.where('school_id', '=', owner.schoolId);
}

/** Entries of one owner, by first day; `from`/`to` keep those overlapping that range. */
export async function listEntries(db: DbOrTrx, owner: EntryOwner, range: { from?: string; to?: string } = {}): Promise<CalendarEntryRow[]> {
  let q = ownedBy(db.selectFrom('calendar_entries').select(ENTRY_FIELDS), owner);
  if (range.from) q = q.where('ends_on', '>=', range.from);
  if (range.to) q = q.where('starts_on', '<=', range.to);
  return q.orderBy('starts_on').orderBy('id').execute();
}

/**
 * The shared calendar a school subscribes to and the entries that make its calendar (its own
 * and the shared calendar's), in one round trip: the figures read it on every request.
 */
export async function schoolCalendarRows(db: DbOrTrx, schoolId: number): Promise<{ shared: Calendar | null; entries: Array<CalendarEntryRow & { source: 'school' | 'shared' }> }> {
  const rows = await sql<{ sub: Calendar | null; entries: Array<Omit<CalendarEntryRow, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string; source: 'school' | 'shared' }> | null }>`
    SELECT
      (SELECT to_jsonb(c) FROM calendar_subscriptions s JOIN calendars c ON c.id = s.calendar_id WHERE s.school_id = ${schoolId}) AS sub,
      (SELECT jsonb_agg(jsonb_build_object('id', e.id, 'calendar_id', e.calendar_id, 'school_id', e.school_id, 'kind', e.kind, 'label', e.label,
          'starts_on', e.starts_on, 'ends_on', e.ends_on, 'uid', e.uid, 'created_at', e.created_at, 'updated_at', e.updated_at,
          'source', CASE WHEN e.school_id IS NULL THEN 'shared' ELSE 'school' END) ORDER BY e.starts_on, e.id)
       FROM calendar_entries e
       WHERE e.school_id = ${schoolId}
          OR e.calendar_id = (SELECT calendar_id FROM calendar_subscriptions WHERE school_id = ${schoolId})) AS entries
  `.execute(db);
  const { sub, entries } = rows.rows[0];
  return {
    shared: sub && { ...sub, created_at: new Date(sub.created_at), updated_at: new Date(sub.updated_at) },
    entries: (entries ?? []).map((e) => ({ ...e, created_at: new Date(e.created_at), updated_at: new Date(e.updated_at) })),
  };
}

export async function findEntry(db: DbOrTrx, owner: EntryOwner, id: number): Promise<CalendarEntryRow | undefined> {
  return ownedBy(db.selectFrom('calendar_entries').select(ENTRY_FIELDS).where('id', '=', id), owner).executeTakeFirst();
}

export interface EntryValues {
  kind: EntryKind;
  label: string;
  starts_on: string;
  ends_on: string;
  uid?: string | null;
}

export async function insertEntry(db: DbOrTrx, owner: EntryOwner, values: EntryValues): Promise<CalendarEntryRow> {
  const own = 'calendarId' in owner ? { calendar_id: owner.calendarId, school_id: null } : { calendar_id: null, school_id: owner.schoolId };
  return db.insertInto('calendar_entries').values({ ...own, ...values, uid: values.uid ?? null }).returning(ENTRY_FIELDS).executeTakeFirstOrThrow();
}

export async function updateEntry(db: DbOrTrx, owner: EntryOwner, id: number, patch: Partial<EntryValues>): Promise<CalendarEntryRow | undefined> {
  return ownedBy(db.updateTable('calendar_entries').set({ ...patch, updated_at: new Date() }).where('id', '=', id), owner)
    .returning(ENTRY_FIELDS).executeTakeFirst();
}

/** The entry deleted, or undefined when the owner has none with that id. */
export async function deleteEntry(db: DbOrTrx, owner: EntryOwner, id: number): Promise<CalendarEntryRow | undefined> {
  return ownedBy(db.deleteFrom('calendar_entries').where('id', '=', id), owner).returning(ENTRY_FIELDS).executeTakeFirst();
}

/** Entries of the owner holding one of these UIDs. */
export async function entriesByUid(db: DbOrTrx, owner: EntryOwner, uids: string[]): Promise<CalendarEntryRow[]> {
  if (uids.length === 0) return [];
  return ownedBy(db.selectFrom('calendar_entries').select(ENTRY_FIELDS).where('uid', 'in', uids), owner).execute();
}

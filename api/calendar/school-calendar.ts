// A school's effective calendar as the figures apply it: school days of the week, its own
// entries and its shared calendar's, read on every request (a few dozen rows) so that a change
// shows in the very next answer, with a version that the figures' cache key and ETag include.
import { createHash } from 'node:crypto';
import type { DbOrTrx } from '../../db/database.js';
import { schoolCalendarRows } from '../../db/repositories/calendars.js';
import type { Calendar, CalendarEntryRow, School } from '../../db/schema/index.js';
import { SchoolCalendar } from '../../shared/attendance/school-calendar.js';

export interface LoadedCalendar {
  calendar: SchoolCalendar;
  /** Changes whenever the school days, an entry or the subscription change. */
  version: string;
  shared: Calendar | null;
  entries: Array<CalendarEntryRow & { source: 'school' | 'shared' }>;
}

export async function loadSchoolCalendar(db: DbOrTrx, school: School): Promise<LoadedCalendar> {
  const { entries, shared } = await schoolCalendarRows(db, school.id);
  const calendar = new SchoolCalendar(school.school_days, entries.map((e) => ({ kind: e.kind, label: e.label, startsOn: e.starts_on, endsOn: e.ends_on })));
  const version = createHash('sha256')
    .update(JSON.stringify([school.school_days, shared?.id ?? null, entries.map((e) => [e.id, e.kind, e.label, e.starts_on, e.ends_on])]))
    .digest('base64url').slice(0, 16);
  return { calendar, version, shared, entries };
}

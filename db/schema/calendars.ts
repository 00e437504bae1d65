import type { ColumnType, Generated, Selectable } from 'kysely';
import type { EntryKind } from '../../shared/attendance/school-calendar.js';

export interface CalendarsTable {
  id: Generated<number>;
  name: string;
  region: string | null;
  /** Places an imported file's UTC times on local days. */
  timezone: Generated<string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type Calendar = Selectable<CalendarsTable>;

export interface CalendarEntriesTable {
  id: Generated<number>;
  /** Exactly one of calendar_id (a shared calendar's entry) and school_id (a school's own) is set. */
  calendar_id: number | null;
  school_id: number | null;
  kind: EntryKind;
  label: string;
  /** 'YYYY-MM-DD', both included. */
  starts_on: ColumnType<string, string, string>;
  ends_on: ColumnType<string, string, string>;
  uid: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type CalendarEntryRow = Selectable<CalendarEntriesTable>;

export interface CalendarSubscriptionsTable {
  school_id: number;
  calendar_id: number;
  created_at: Generated<Date>;
}

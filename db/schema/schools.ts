import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface SchoolsTable {
  id: Generated<number>;
  name: string;
  /** IANA zone; every day in the figures is a local day here. */
  timezone: Generated<string>;
  /** ISO weekdays (1 = Monday) that are school days. */
  school_days: Generated<number[]>;
  /** 'HH:MM:SS': an interval still open at the end of a past day is closed here. */
  day_end: Generated<string>;
  fever_threshold: Generated<number>;
  /** Week/month: present on more than this percent of the counted days (DESIGN §4). */
  attendance_threshold: Generated<number>;
  /** 'HH:MM:SS' or null: a present day whose first check-in is after it is late. */
  late_after: Generated<string | null>;
  /** 'YYYY-MM-DD' or null (then the first day of recorded attendance): days before it are "no data". */
  records_from: Generated<string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type School = Selectable<SchoolsTable>;
export type NewSchool = Insertable<SchoolsTable>;
export type SchoolUpdate = Updateable<SchoolsTable>;

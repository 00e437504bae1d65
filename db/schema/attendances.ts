import type { Generated, Insertable, Selectable } from 'kysely';

export type AttendanceType = 'checkin' | 'checkout';

export interface AttendancesTable {
  id: Generated<number>;
  school_id: number;
  user_id: number;
  /** Null for rows posted through the REST API. */
  device_id: string | null;
  record_id: number | null;
  type: AttendanceType;
  occurred_at: Date;
  temperature: number | null;
  photo: string | null;
  session_id: string | null;
  /** The batch's device clock was off by more than 5 minutes. */
  clock_suspect: Generated<boolean>;
  /** PUSH punches (docs/protocol/push.md §4): the terminal's PIN and wall-clock time, the natural key with device_id. */
  pin: Generated<string | null>;
  local_time: Generated<string | null>;
  verify: Generated<number | null>;
  punch_status: Generated<number | null>;
  /** The type was inferred by pairing (the terminal sent no in/out). */
  type_inferred: Generated<boolean>;
  created_by: number | null;
  idempotency_key: string | null;
  created_at: Generated<Date>;
  /** A staff correction's reason (a missed badge); also the reason of a withdrawal. */
  reason: Generated<string | null>;
  /** A withdrawal: this row cancels that correction; neither counts any more. */
  cancels_id: Generated<number | null>;
}
export type Attendance = Selectable<AttendancesTable>;

/**
 * The device keys a resend is deduplicated on (attendances are partitioned by month, so their
 * own unique index could not span months): written in the same statement as the row.
 */
export interface AttendanceKeysTable {
  school_id: number;
  device_id: string;
  record_id: number;
  /** The row's id and time (its month): how a resend finds the stored row. */
  attendance_id: number;
  occurred_at: Date;
}
export interface AttendancePushKeysTable {
  school_id: number;
  device_id: string;
  pin: string;
  local_time: string;
}
export type NewAttendance = Insertable<AttendancesTable>;

export interface FeverEventsTable {
  id: Generated<number>;
  school_id: number;
  user_id: number | null;
  device_id: string | null;
  attendance_id: number | null;
  source: Generated<string>;
  record_id: number | null;
  temperature: number;
  occurred_at: Date;
  created_at: Generated<Date>;
  /** The probe reading that raised it (source 'sondes'). */
  reading_id: Generated<number | null>;
}
export type FeverEvent = Selectable<FeverEventsTable>;

export interface UserDaysTable {
  school_id: number;
  user_id: number;
  /** 'YYYY-MM-DD', the school's local day. */
  date: string;
  /** Closed intervals only; an interval open today is `open_since` and counted live. */
  seconds: number;
  first_checkin_at: Date | null;
  last_event_at: Date | null;
  last_event_type: AttendanceType | null;
  open_since: Date | null;
  anomalies: string[];
  clock_suspect: boolean;
  updated_at: Generated<Date>;
  rev: Generated<number>;
  /** The standing mark (shared/attendance/marks.ts resolveMarks), its reason, and why it needs a look. */
  mark: Generated<string | null>;
  mark_reason: Generated<string | null>;
  mark_conflict: Generated<string | null>;
}

export interface MarksTable {
  id: Generated<number>;
  school_id: number;
  user_id: number;
  date: string;
  period: string | null;
  mark: string;
  reason: string | null;
  note: string | null;
  author_kind: string;
  staff_id: number | null;
  device_id: string | null;
  record_id: number | null;
  session_id: string | null;
  idempotency_key: string | null;
  marked_at: Date;
  created_at: Generated<Date>;
}
export type MarkRow = Selectable<MarksTable>;
export type UserDayRow = Selectable<UserDaysTable>;

import type { Generated, Insertable, JSONColumnType, Selectable } from 'kysely';
import type { SyncStatus } from '../../shared/protocol/codes.js';

export interface SyncStatesTable {
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  channel: string;
  status: Generated<SyncStatus>;
  session_id: string | null;
  changed_at: Generated<Date>;
}
export type SyncState = Selectable<SyncStatesTable>;

/** Per CSV log of a batch: docs/protocol/v4.md §5 `<import>`; conservation: received = accepted + duplicates + rejected. */
export interface FileImportStats {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  high_water_mark: number;
}
export type SessionStats = Record<string, FileImportStats>;

/** `partial`: imported, except the files named in `file_errors` (docs/protocol/v4.md §4: the other files still are). */
export type SessionOutcome = 'imported' | 'partial' | 'failed' | 'reset';

/** A file of the batch that was not imported, as the package's `<error>` line says. */
export interface SessionFileError {
  file: string;
  code: string;
  detail: string | null;
}

export interface SyncSessionsTable {
  id: Generated<string>;
  device_id: string;
  channel: string;
  /** Pruned after the retention period; the hash stays. */
  archive: Buffer | null;
  archive_sha256: string;
  archive_bytes: number;
  received_at: Generated<Date>;
  processed_at: Date | null;
  acked_at: Date | null;
  outcome: SessionOutcome | null;
  stats: JSONColumnType<SessionStats> | null;
  device_clock: Date | null;
  clock_skew_seconds: number | null;
  package: Buffer | null;
  package_sha256: string | null;
  job_id: string | null;
  attempts: Generated<number>;
  /** After a failed import attempt, not claimed again before this (null: at once). */
  retry_at: Date | null;
  failure: string | null;
  /** What the package offers that counts only once acknowledged, e.g. {"messages": [ids], "alerts": [ids]}. */
  offered: JSONColumnType<Record<string, number[]>> | null;
  file_errors: JSONColumnType<SessionFileError[]> | null;
  /** A PUSH session's table: 'ATTLOG' lines or 'rtlog' events (Security PUSH 3.x); null: ATTLOG. */
  push_table: 'ATTLOG' | 'rtlog' | null;
  /** The session's school: its device's at upload (a PUSH session's punches are that school's even if the terminal moved since). */
  school_id: number;
}
export type SyncSession = Selectable<SyncSessionsTable>;
export type NewSyncSession = Insertable<SyncSessionsTable>;

export interface HighWaterMarksTable {
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  file: string;
  record_id: number;
  updated_at: Generated<Date>;
}

export interface RejectionsTable {
  id: Generated<number>;
  session_id: string;
  file: string;
  line: number;
  record_id: string | null;
  code: string;
  /** What is wrong, for a developer (docs/protocol/v4.md §4.5); null for rows refused before it was kept. */
  detail: string | null;
  /** When it was stored: the month partition it is in. */
  created_at: Generated<Date>;
  /** The session's school (its key, ready to shard by school). */
  school_id: number;
}
export type Rejection = Selectable<RejectionsTable>;

// Data mart export tables (migration 20261124_001000_datamart).
import type { ColumnType, Generated, Selectable } from 'kysely';

export type DatamartEntityName = 'schools' | 'persons' | 'attendance_days';
export type DatamartOperation = 'upsert' | 'delete';
export type DatamartRunStatus = 'queued' | 'running' | 'done' | 'failed';
export type DatamartStepStatus = 'running' | 'done' | 'failed';
export type DatamartUploadStatus = 'processing' | 'accepted' | 'rejected' | 'failed';

/** Timestamps a JS Date would round to the millisecond are read as text where it matters. */
export interface DatamartChangesTable {
  entity: DatamartEntityName;
  key: string;
  changed_at: Date;
}

export interface DatamartRunsTable {
  id: Generated<number>;
  trigger: 'schedule' | 'manual';
  requested_by: number | null;
  status: DatamartRunStatus;
  requested_from: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  requested_to: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  window_from: ColumnType<Date | null, never, Date | string | null>;
  window_to: ColumnType<Date | null, never, Date | string | null>;
  /** A scheduled run's window over user_days.rev (transaction ids), [xid_from, xid_to); null for a window asked for. */
  xid_from: ColumnType<number | null, never, number | null>;
  xid_to: ColumnType<number | null, never, number | null>;
  collected_at: Date | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
}
export type DatamartRun = Selectable<DatamartRunsTable>;

export interface DatamartStagesTable {
  id: Generated<number>;
  run_id: number;
  seq: number;
  kind: 'collect' | 'export';
  entity: DatamartEntityName;
  operation: DatamartOperation | null;
  status: DatamartStepStatus;
  rows: Generated<number>;
  started_at: Generated<Date>;
  finished_at: Date | null;
  error: string | null;
}
export type DatamartStage = Selectable<DatamartStagesTable>;

export interface DatamartSubstagesTable {
  id: Generated<number>;
  stage_id: number;
  seq: number;
  status: DatamartStepStatus;
  rows: Generated<number>;
  started_at: Generated<Date>;
  finished_at: Date | null;
  error: string | null;
}
export type DatamartSubstage = Selectable<DatamartSubstagesTable>;

export interface DatamartUploadsTable {
  id: Generated<number>;
  run_id: number;
  substage_id: number;
  entity: DatamartEntityName;
  operation: DatamartOperation;
  file_name: string;
  rows: number;
  bytes: number;
  remote_id: string | null;
  status: DatamartUploadStatus;
  errors: ColumnType<unknown[], string | undefined, string>;
  attempts: Generated<number>;
  created_at: Generated<Date>;
  checked_at: Date | null;
  finished_at: Date | null;
}
export type DatamartUpload = Selectable<DatamartUploadsTable>;

export interface DatamartRecordsTable {
  entity: DatamartEntityName;
  key: string;
  operation: DatamartOperation;
  fields: ColumnType<Record<string, unknown>, string, string>;
  version: Generated<number>;
  collected_run_id: number | null;
  collected_at: Generated<Date>;
  sent_version: number | null;
  sent_upload_id: number | null;
}

export interface DatamartCollectKeysTable {
  stage_id: number;
  key: string;
}

// The typed database: one interface per table, composed here.
import type { AttendancesTable, FeverEventsTable, UserDaysTable } from './attendances.js';
import type { AuthThrottleTable, IdempotencyKeysTable } from './auth.js';
import type { DatamartChangesTable, DatamartCollectKeysTable, DatamartRecordsTable, DatamartRunsTable, DatamartStagesTable, DatamartSubstagesTable, DatamartUploadsTable } from './datamart.js';
import type { AlertDeliveriesTable, DeviceMessagesTable, DevicePhotosTable, MessageDeliveriesTable, MessagesTable, PhotosTable, ReadingsTable } from './channels.js';
import type { DevicesTable } from './devices.js';
import type { FigureRebuildsTable } from './figures.js';
import type { DeviceFlagsTable, FlagEventsTable } from './flags.js';
import type { SchoolsTable } from './schools.js';
import type { StaffTable } from './staff.js';
import type { HighWaterMarksTable, RejectionsTable, SyncSessionsTable, SyncStatesTable } from './sync.js';
import type { UsersTable } from './users.js';

export interface Database {
  schools: SchoolsTable;
  users: UsersTable;
  staff: StaffTable;
  devices: DevicesTable;
  sync_states: SyncStatesTable;
  sync_sessions: SyncSessionsTable;
  attendances: AttendancesTable;
  high_water_marks: HighWaterMarksTable;
  rejections: RejectionsTable;
  fever_events: FeverEventsTable;
  user_days: UserDaysTable;
  device_flags: DeviceFlagsTable;
  flag_events: FlagEventsTable;
  auth_throttle: AuthThrottleTable;
  idempotency_keys: IdempotencyKeysTable;
  figure_rebuilds: FigureRebuildsTable;
  datamart_changes: DatamartChangesTable;
  datamart_runs: DatamartRunsTable;
  datamart_stages: DatamartStagesTable;
  datamart_substages: DatamartSubstagesTable;
  datamart_uploads: DatamartUploadsTable;
  datamart_records: DatamartRecordsTable;
  datamart_collect_keys: DatamartCollectKeysTable;
  readings: ReadingsTable;
  messages: MessagesTable;
  message_deliveries: MessageDeliveriesTable;
  alert_deliveries: AlertDeliveriesTable;
  device_messages: DeviceMessagesTable;
  photos: PhotosTable;
  device_photos: DevicePhotosTable;
}

export type * from './attendances.js';
export type * from './auth.js';
export type * from './datamart.js';
export type * from './channels.js';
export type * from './devices.js';
export type * from './figures.js';
export type * from './flags.js';
export type * from './schools.js';
export type * from './staff.js';
export type * from './sync.js';
export type * from './users.js';

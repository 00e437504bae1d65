// @attendance-sync/device-sdk: the platform-free core (browsers and Node ≥ 22). Storage adapters are
// separate entry points (`./memory`, `./indexeddb`) so an app bundles only the one it uses.
export { SyncClient, type OpenOptions, type CheckIn, type Mark, type SyncReport, type ChannelReport, type EnrolOptions } from './core/client.js';
export { SyncError, ERROR_CLASSES, classify, refusalMessage } from './core/errors.js';
export { readPackage, type InstructionPackage } from './core/package-reader.js';
export { startScheduler, type Scheduler, type SchedulerOptions } from './adapters/scheduler.js';
export { parseEnrolUri, enrolUri, type Enrolment } from '../../shared/devices/enrol-uri.js';
export {
  CHANNELS, LOG_FILE, type Channel, type ClientState, type ExcuseReason, type MarkValue, type Refusal, type RosterEntry,
  type SyncErrorInfo, type ErrorClass, type SyncStorage, type StoredRow, type StoredBatch, type StorageChanges, type RowState, type Identity,
  type QueuedRow, type PackageErrorReport, type SyncEvent,
} from './core/types.js';

// The shapes the SDK keeps and shows. The wire shapes (JSON answers) are in protocol.ts.

/** The channels an app syncs: `synchro` (check-ins, attendances.csv) and `appel` (roll call, marks.csv). */
export type Channel = 'synchro' | 'appel';
export const CHANNELS: readonly Channel[] = ['synchro', 'appel'];

/** The CSV log each channel uploads (docs/protocol/v4.md §4.4, §7.4). */
export const LOG_FILE: Record<Channel, string> = { synchro: 'attendances.csv', appel: 'marks.csv' };

export type MarkValue = 'present' | 'late' | 'absent' | 'excused';
export type ExcuseReason = 'illness' | 'medical' | 'family' | 'authorised_activity' | 'other';

/** A user of the school, from the instruction package's roster.csv (§5.5). */
export interface RosterEntry {
  userId: number;
  name: string;
  badge: string;
  active: boolean;
}

/** A row the server refused (a `<rejection>` of a package, or a whole batch given up). */
export interface Refusal {
  channel: Channel;
  file: string;
  /** The physical line in the uploaded CSV (header is line 1); 0 when the whole batch was refused. */
  line: number;
  recordId?: number;
  code: string;
  /** The server's own detail (`expected 6 fields, got 5`) when it gives one. */
  detail?: string;
  /** A plain-words English sentence; an app translates by `code`. */
  message: string;
  /** What the row said, so the app can show which check-in or mark it was. */
  row?: Record<string, string>;
  /** The local key of the refused row (what checkIn/mark answered), when the SDK still holds it. */
  key?: number;
  at: string;
}

/** What checkIn and mark answer: the queued row's local key, stable for the row's life in storage. */
export interface QueuedRow {
  key: number;
  channel: Channel;
  /** The row's instant as sent (server-corrected, ISO 8601). */
  at: string;
}

/** A file-level `<error>` of an instruction package, or `processing_failed` (no `file`: the whole batch, sent again). */
export interface PackageErrorReport {
  channel: Channel;
  sessionId: string;
  file?: string;
  code: string;
  detail?: string;
  /** True when the same rows go again (processing_failed, a transient file error); false when they were given up. */
  retry: boolean;
  at: string;
}

/**
 * What `client.onEvent` listeners hear, as it happens. Times in `*Ms` are `Date.now()` of this
 * process (for durations; the device clock may be skewed).
 */
export type SyncEvent =
  | { type: 'numbered'; channel: Channel; rows: Array<{ key: number; recordId: number }> }
  | { type: 'accepted'; channel: Channel; sessionId: string; rows: number; atMs: number }
  | { type: 'ready'; channel: Channel; sessionId: string; atMs: number; acceptedAtMs?: number }
  | { type: 'refused'; refusal: Refusal }
  | { type: 'package-error'; error: PackageErrorReport };

export type ErrorClass = 'retry-later' | 'fix-and-resend' | 'give-up';

export interface SyncErrorInfo {
  code: string;
  class: ErrorClass;
  message: string;
  channel?: Channel;
  at: string;
}

/** What a UI shows; `subscribe` is told each time it changes. */
export interface ClientState {
  enrolled: boolean;
  /** False after a network failure, true after any answer from the server (and the browser's `online`/`offline`). */
  online: boolean;
  syncing: boolean;
  /** Rows queued and not yet confirmed stored by the server. */
  waiting: number;
  /** When the server last confirmed rows stored (ISO 8601), or null. */
  lastSentAt: string | null;
  lastError: SyncErrorInfo | null;
  /** Rows the server refused, newest last (at most 200 kept). */
  refused: Refusal[];
  /** Device clock minus server clock, in ms, as last measured (0 until then). */
  clockSkewMs: number;
  /** A `REBOOT` flag arrived: the app should restart when convenient. */
  restartRequested: boolean;
  /** The server does not offer these channels (an older server answers `404 unknown_channel`). */
  unsupportedChannels: Channel[];
}

export interface Identity {
  server: string;
  deviceId: string;
  secret: string;
}

export type RowState = 'waiting' | 'stored' | 'refused';

/**
 * One queued row. `recordId` is allocated when the row first goes into a batch (above the
 * server's high-water mark, so a wiped or reset device never reuses an id the server holds),
 * then never changes.
 */
export interface StoredRow {
  key?: number;
  channel: Channel;
  recordId: number | null;
  /** The row's instant (ISO 8601 UTC), for RESEND_SINCE windows. */
  at: string;
  /** The CSV columns but record_id. */
  fields: Record<string, string>;
  state: RowState;
}

/** A batch: its archive bytes frozen before the first send and resent as they are (§3.3). */
export interface StoredBatch {
  channel: Channel;
  id: string;
  bytes: Uint8Array;
  /** Row keys in the batch, in CSV order: line n + 2 holds rowKeys[n]. */
  rowKeys: number[];
  recordIds: number[];
  /** `frozen`: not yet accepted; `accepted`: a 202 named `sessionId`. */
  stage: 'frozen' | 'accepted';
  sessionId?: string;
  createdAt: string;
  /** Times a refused upload was rebuilt from its rows (fix-and-resend). */
  rebuilds: number;
}

/** One atomic write: rows, a channel's batch and meta values change together or not at all. */
export interface StorageChanges {
  rows?: StoredRow[];
  deleteRows?: number[];
  batch?: { channel: Channel; value: StoredBatch | null };
  meta?: Record<string, unknown>;
}

/**
 * Where the SDK keeps everything. Implementations: adapters/memory.ts (tests), adapters/indexeddb.ts
 * (browsers; Node with fake-indexeddb). Every method is atomic on its own.
 */
export interface SyncStorage {
  meta<T>(key: string): Promise<T | undefined>;
  /** The rows of a channel in queue order; `state` filters. */
  rows(channel: Channel, state?: RowState): Promise<StoredRow[]>;
  countWaiting(): Promise<number>;
  batch(channel: Channel): Promise<StoredBatch | undefined>;
  /** Queues a row; answers its key. */
  addRow(row: StoredRow): Promise<number>;
  commit(changes: StorageChanges): Promise<void>;
  /**
   * Takes or renews the sync lease for `holder` until `nowMs + ttlMs`; false when another holder's
   * lease has not expired. Two tabs on one storage: only the lease holder syncs.
   */
  lease(holder: string, ttlMs: number, nowMs: number): Promise<boolean>;
  release(holder: string): Promise<void>;
  /** Forgets everything (sign out, or a test wiping storage). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

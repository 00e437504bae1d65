// What a channel importer works with while a batch is imported, all inside one transaction.
import type { Trx } from '../../db/database.js';
import type { FileImportStats, School } from '../../db/schema/index.js';
import type { ArchiveContents } from '../../shared/archive/inspect-archive.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import type { FeverAlert, FileErrorReport, FlagInstruction, OfficeMessage, PhotoReport, RowRejection } from '../../shared/protocol/instruction-package.js';
import type { ZipFileInput } from '../../shared/archive/build-zip.js';
import type { DeviceReport } from '../../shared/xml/device-xml.js';
import type { Logger } from '../../shared/logger.js';
import type { TouchedDays } from '../../shared/attendance/touched-days.js';

export interface ImportSession {
  id: string;
  deviceId: string;
  channel: ChannelName;
  receivedAt: Date;
}

export interface ImportDevice {
  id: string;
  schoolId: number;
  rosterVersion: number | null;
  /**
   * False when the device had no pending flag as the import began (read with its claim): the
   * importer need not read them. A flag set since waits for the next package, as one set just
   * after the read would.
   */
  hasPendingFlags?: boolean;
}

export interface ImportContext {
  trx: Trx;
  logger: Logger;
  session: ImportSession;
  device: ImportDevice;
  school: School;
  archive: ArchiveContents;
  /** Null when device.xml could not be read (reported as an error). */
  report: DeviceReport | null;
  clockSuspect: boolean;
  /** Rows one CSV log of the batch may hold (BATCH_MAX_ROWS): a log with more is `csv_invalid`, none of it imported. */
  maxRows: number;
  touched: TouchedDays;
  now: Date;
  /** Filled by importers, written into the package. */
  out: PackageParts;
}

export interface PackageParts {
  imports: Map<string, FileImportStats>;
  /**
   * The batch's rejections, in the order they were stored (the `rejections` table, by id), while
   * there are at most HELD_REJECTIONS (channels/kit/rejections.ts); past that none are held here
   * (`rejectionsSpilled`) and the package reads them back from the table, a page at a time, so
   * the worker's memory does not grow with their number (issue #33). Added through
   * `noteRejections`, never pushed directly.
   */
  rejections: RowRejection[];
  /** More rejections than HELD_REJECTIONS were stored: `rejections` is empty and the table holds them all. */
  rejectionsSpilled: boolean;
  /** Rejections per code, however many (the worker's metrics). */
  rejectionCounts: Record<string, number>;
  errors: FileErrorReport[];
  alerts: FeverAlert[];
  /** Extra files of the package (roster.csv …) and their `<roster>` etc. elements are set by importers. */
  files: ZipFileInput[];
  roster: { version: number; mode: 'delta' | 'full'; file: string } | null;
  flags: FlagInstruction[];
  settings: Record<string, string> | null;
  messages: OfficeMessage[];
  photos: PhotoReport[];
  /** What the package offers that counts only once acknowledged (messages, alerts): kept on the session. */
  offered: Record<string, number[]> | null;
}

export function emptyParts(): PackageParts {
  return { imports: new Map(), rejections: [], rejectionsSpilled: false, rejectionCounts: {}, errors: [], alerts: [], files: [], roster: null, flags: [], settings: null, messages: [], photos: [], offered: null };
}

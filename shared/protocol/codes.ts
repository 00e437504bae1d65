// Row and file codes of docs/protocol/v4.md §4–§5: reported inside instruction packages, not as HTTP errors.

export const ROW_REJECTION_CODES = [
  'malformed_row',
  'invalid_record_id',
  'unknown_user',
  'invalid_type',
  'invalid_timestamp',
  'in_future',
  'temperature_out_of_range',
  'record_conflict',
  'invalid_date',
  'invalid_period',
  'invalid_mark',
  'invalid_reason',
] as const;
export type RowRejectionCode = (typeof ROW_REJECTION_CODES)[number];

/**
 * Whole-file errors (`<error file=… code=…>`): the file was not imported, the rest of the batch was.
 * `file_corrupt`: the entry's headers were fine but its data does not inflate or fails its CRC.
 */
export const FILE_ERROR_CODES = ['xml_invalid', 'csv_invalid', 'file_corrupt', 'processing_failed'] as const;
export type FileErrorCode = (typeof FILE_ERROR_CODES)[number];

export const SYNC_STATUS = { idle: 0, processing: 1, ready: 2 } as const;
export type SyncStatus = (typeof SYNC_STATUS)[keyof typeof SYNC_STATUS];

export const TEMPERATURE_MIN = 28.0;
export const TEMPERATURE_MAX = 43.0;
/** A row may be at most this far ahead of the time the server received the batch. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
/**
 * The earliest time a row may carry (`invalid_timestamp` before it; docs/protocol/v4.md §4.4, §11).
 * The original contract only asks for ISO 8601, so 0001-01-01 used to be stored; no device of this
 * protocol recorded anything before 2010, and the usual reset values of a device clock (1970-01-01,
 * 1980-01-01, 2000-01-01) fall before it: such a row is reported back instead of landing in a
 * figure nobody reads.
 */
export const EARLIEST_ROW_TIME = new Date('2010-01-01T00:00:00Z');
/** Rows from a batch whose device clock was off by more than this are stored `clock_suspect`. */
export const CLOCK_SUSPECT_SKEW_SECONDS = 5 * 60;
/** `<clock>` is sent down when the device clock is off by more than this. */
export const CLOCK_REPORT_SKEW_SECONDS = 60;

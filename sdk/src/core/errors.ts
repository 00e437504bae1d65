// Every HTTP error code of docs/protocol/v4.md §3.6, classified by what the device does next:
//  - retry-later: nothing is wrong with what we send; try the same again later (network, 5xx,
//    503/429 with Retry-After, an expired token, a channel busy with another session);
//  - fix-and-resend: the request itself was refused; the SDK rebuilds it (a smaller batch, the
//    files the manifest asks for) and sends again. A refused upload stored nothing (§3.3.2), so
//    rebuilding is safe; a batch refused again after rebuilding is given up;
//  - give-up: no resend can succeed; the rows of a given-up batch are reported as refused so that
//    the queue moves on (a 4xx never blocks the queue), or the device needs enrolling again.
import type { Channel, ErrorClass } from './types.js';

export const ERROR_CLASSES: Readonly<Record<string, ErrorClass>> = {
  // 400: the archive itself (our own bug, or a corrupted stored batch): rebuild it from the rows.
  archive_missing: 'fix-and-resend',
  archive_corrupt: 'fix-and-resend',
  archive_encrypted: 'fix-and-resend',
  archive_too_many_entries: 'fix-and-resend',
  archive_too_large_uncompressed: 'fix-and-resend',
  archive_suspicious_ratio: 'fix-and-resend',
  entry_name_invalid: 'fix-and-resend',
  entry_duplicate: 'fix-and-resend',
  required_file_missing: 'fix-and-resend',
  bad_request: 'fix-and-resend',
  // 401
  invalid_credentials: 'give-up', // disabled device or rotated secret: enrol again
  invalid_token: 'retry-later', // sign in again, then repeat the call
  // 404: an older server without this channel; its rows stay queued
  unknown_channel: 'give-up',
  // 409: finish the session in progress, read the status again
  sync_in_progress: 'retry-later',
  no_instructions_ready: 'retry-later',
  session_mismatch: 'retry-later',
  // 413: split the batch
  archive_too_large: 'fix-and-resend',
  // 415: not a zip, or not multipart: rebuild
  unsupported_media_type: 'fix-and-resend',
  // 422: a malformed request body or query
  validation_failed: 'fix-and-resend',
  // 429, 500, 503: the server asks for patience
  rate_limited: 'retry-later',
  internal_error: 'retry-later',
  server_busy: 'retry-later',
  service_unavailable: 'retry-later',
};

/** Codes the SDK itself raises (no server answer). */
export const LOCAL_CODES = {
  network: 'network_error',
  notEnrolled: 'not_enrolled',
  badPackage: 'package_invalid',
  badAnswer: 'answer_invalid',
  locked: 'sync_elsewhere',
  processing: 'still_processing',
} as const;

/** The class of a problem `code` (unknown codes by their HTTP status: 4xx give up, 5xx retry). */
export function classify(code: string, httpStatus = 0): ErrorClass {
  const known = ERROR_CLASSES[code];
  if (known) return known;
  if (code === LOCAL_CODES.network || code === LOCAL_CODES.locked || code === LOCAL_CODES.processing) return 'retry-later';
  if (code === LOCAL_CODES.badPackage || code === LOCAL_CODES.badAnswer) return 'retry-later';
  if (code === LOCAL_CODES.notEnrolled) return 'give-up';
  return httpStatus >= 500 || httpStatus === 0 || httpStatus === 429 || httpStatus === 408 ? 'retry-later' : 'give-up';
}

/** A call that did not succeed: the server's problem code, or a local one (network_error…). */
export class SyncError extends Error {
  readonly class: ErrorClass;
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 0,
    readonly problem: Record<string, unknown> = {},
    /** Seconds the server asked us to wait (Retry-After), when it did. */
    readonly retryAfterSeconds?: number,
    readonly channel?: Channel,
  ) {
    super(message);
    this.name = 'SyncError';
    this.class = classify(code, httpStatus);
  }
}

/** Plain words for the row and file codes of a package (§4.5, §4.7), by code. */
const ROW_MESSAGES: Record<string, string> = {
  malformed_row: 'The row could not be read.',
  invalid_record_id: 'The row number is not valid.',
  unknown_user: 'This person is not on the school\'s list.',
  invalid_type: 'It is neither a check-in nor a check-out.',
  invalid_timestamp: 'The time of the record is not valid.',
  in_future: 'The record is dated in the future: check the device clock.',
  temperature_out_of_range: 'The temperature is outside 28–43 °C.',
  record_conflict: 'The server already holds another record under this number.',
  invalid_date: 'The date is not valid.',
  invalid_period: 'The lesson or period is not valid.',
  invalid_mark: 'The mark is not one of present, late, absent or excused.',
  invalid_reason: 'An excused absence needs a reason, and only an excused absence takes one.',
  xml_invalid: 'The device information could not be read.',
  csv_invalid: 'The file of records could not be read.',
  file_corrupt: 'The file of records arrived damaged.',
  processing_failed: 'The server could not import the batch; it will be sent again.',
};

export function refusalMessage(code: string): string {
  return ROW_MESSAGES[code] ?? `The server refused it (${code}).`;
}

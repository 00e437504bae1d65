// One error vocabulary for the whole service. Domain code throws `Problem`s with a stable
// `code`; the api's error middleware renders them as RFC 9457 problem+json. Anything that is
// not a Problem becomes a logged 500 with no internals in the response.

export interface ProblemDefinition {
  status: number;
  title: string;
}

/** Every code an HTTP response may carry, with its status. docs/protocol/v4.md §1–§5 codes first. */
export const PROBLEMS = {
  // device protocol (docs/protocol/v4.md)
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  invalid_token: { status: 401, title: 'Invalid or expired token' },
  sync_in_progress: { status: 409, title: 'A sync is already in progress on this channel' },
  archive_missing: { status: 400, title: 'No archive in the upload' },
  archive_corrupt: { status: 400, title: 'The archive cannot be read' },
  archive_encrypted: { status: 400, title: 'The archive holds encrypted entries' },
  archive_too_many_entries: { status: 400, title: 'The archive holds too many entries' },
  archive_too_large_uncompressed: { status: 400, title: 'The archive is too large once uncompressed' },
  archive_suspicious_ratio: { status: 400, title: 'An entry has a suspicious compression ratio' },
  entry_name_invalid: { status: 400, title: 'An entry name is not allowed' },
  entry_duplicate: { status: 400, title: 'An entry name appears twice' },
  required_file_missing: { status: 400, title: 'A required file is missing' },
  archive_too_large: { status: 413, title: 'The archive is larger than allowed' },
  unsupported_media_type: { status: 415, title: 'Expected a multipart upload holding a zip' },
  server_busy: { status: 503, title: 'The server is busy, try again later' },
  no_instructions_ready: { status: 409, title: 'No instruction package is ready' },
  session_mismatch: { status: 409, title: 'That session is not the current one' },
  unknown_channel: { status: 404, title: 'No such channel' },
  // REST API
  bad_request: { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  already_exists: { status: 409, title: 'Already exists' },
  school_has_users: { status: 409, title: 'The school still has users' },
  idempotency_key_reused: { status: 409, title: 'Idempotency key reused with another body' },
  not_a_correction: { status: 409, title: 'Not a correction' },
  already_withdrawn: { status: 409, title: 'Already withdrawn' },
  flag_not_pending: { status: 409, title: 'The flag is no longer pending' },
  datamart_run_in_progress: { status: 409, title: 'A data mart run is already queued or running' },
  datamart_not_configured: { status: 409, title: 'No data mart is configured' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  roster_file_invalid: { status: 400, title: 'The roster file cannot be read' },
  reset_link_invalid: { status: 400, title: 'The reset link is unknown, used or expired' },
  validation_failed: { status: 422, title: 'Validation failed' },
  rate_limited: { status: 429, title: 'Too many attempts, slow down' },
  not_ready: { status: 503, title: 'Not ready' },
  service_unavailable: { status: 503, title: 'The service is unavailable, try again later' },
  internal_error: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, ProblemDefinition>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  /** Dotted path of the failing field, e.g. `body.email` or `query.limit`. */
  field: string;
  message: string;
}

export class Problem extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    /** Extra members of the problem document (snake_case), e.g. `files` or `errors`. */
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? PROBLEMS[code].title);
    this.name = 'Problem';
    this.status = PROBLEMS[code].status;
    this.title = PROBLEMS[code].title;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: `urn:attendance-sync:problem:${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.detail ?? this.title,
      code: this.code,
      ...this.extra,
    };
  }
}

export const notFound = (what = 'resource'): Problem => new Problem('not_found', `No such ${what}`);

/** The value, or a 404 naming what was looked for. */
export function orNotFound<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw notFound(what);
  return value;
}

export function validationFailed(errors: FieldError[]): Problem {
  return new Problem('validation_failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
}

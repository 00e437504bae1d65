// The prose and examples of the OpenAPI document, kept beside the generator rather than in
// every route file: the declarations give paths, schemas and summaries; this file gives the
// document's introduction, longer descriptions and an example for every request body and the
// main responses. test/api/openapi.test.ts checks each example against the route's own schema,
// so an example cannot drift from what the api accepts.
import { VERSION } from '../../shared/version.js';

export const API_DESCRIPTION = `The attendance sync service: the device sync protocol (\`/v4\`, docs/protocol/v4.md), the REST API
for staff (\`/api\`) and operations (\`/healthz\`, \`/metrics\`).

**A staff token.** \`npm start\` prints a backoffice login (kept in \`DATA_DIR/credentials.json\`; in
production \`ADMIN_EMAIL\`/\`ADMIN_PASSWORD\` create it). Send it to \`POST /api/auth/login\` and put the
\`access_token\` of the answer in \`Authorization: Bearer <token>\` (here: the *Authorize* button,
scheme \`staffToken\`). It lasts \`STAFF_TOKEN_TTL_SECONDS\` (8 h by default).

**A device token.** A backoffice user registers a device with \`POST /api/devices\`; the answer holds
its \`secret\` once (\`POST /api/devices/{id}/secret\` issues a new one). The device sends
\`{"device_id", "secret"}\` to \`POST /v4/auth/token\` and uses the \`access_token\` (scheme
\`deviceToken\`) on \`/v4/{channel}/…\`: status → manifest → datas (202, status 1) → wait for status 2 →
instructions → ack. The demo devices \`npm start\` creates are printed with their secrets.

**Errors** are \`application/problem+json\` with a stable \`code\` (\`validation_failed\` lists the fields).
A \`503\` carries \`Retry-After\`: \`server_busy\` (import backlog full) or \`service_unavailable\` (the
database cannot be reached): come back after that many seconds.`;

const problem = (code: string, status: number, title: string, detail: string) => ({
  type: `urn:attendance-sync:problem:${code}`, title, status, detail, code,
});

export interface OperationDoc {
  description?: string;
  /** An example request body, valid against the route's body schema. */
  body?: unknown;
  /** Example answers by status. */
  responses?: Record<number, unknown>;
}

const DEVICE_ID = '3f0c6a52-1d5e-4c1e-9a51-2a8d6d1f7b10';
const SESSION_ID = '7b1e2c4d-8f90-4a6b-b3c2-5d7e9f0a1b2c';
const AT = { created_at: '2026-09-01T07:00:00.000Z', updated_at: '2026-09-01T07:00:00.000Z' };
const STAFF = { id: 1, email: 'backoffice@localhost.test', role: 'backoffice', school_id: null, name: 'Backoffice', deactivated_at: null, ...AT };

export const OPERATION_DOCS: Record<string, OperationDoc> = {
  'POST /api/auth/login': {
    description: 'Exchanges a staff email and password for a bearer token (`staffToken`). Repeated failures from one address are slowed down (429).',
    body: { email: 'backoffice@localhost.test', password: 'the-printed-password' },
    responses: {
      200: { access_token: 'eyJhbGciOiJIUzI1NiJ9…', token_type: 'Bearer', expires_in: 28800, staff: STAFF },
      401: problem('invalid_credentials', 401, 'Invalid credentials', 'Invalid credentials'),
    },
  },
  'POST /api/auth/password-reset': {
    body: { email: 'head@school.example' },
    responses: { 202: { email_enabled: true } },
  },
  'POST /api/auth/password-reset/check': { body: { token: 'the-token-from-the-reset-link' } },
  'POST /api/auth/password-reset/complete': { body: { token: 'the-token-from-the-reset-link', password: 'a-new-long-password' } },
  'POST /api/staff/{id}/password-reset': {
    body: { send_email: true },
    responses: { 201: { reset_url: 'https://attendance.example.org/#reset?token=…', expires_at: '2026-12-07T10:00:00.000Z', emailed: false } },
  },
  'POST /v4/auth/token': {
    description: 'A device signs in with the id and secret it was registered with (docs/protocol/v4.md §1) and gets a bearer token (`deviceToken`) for `/v4/{channel}/…`.',
    body: { device_id: DEVICE_ID, secret: 'the-secret-shown-once-at-registration' },
    responses: { 200: { access_token: 'eyJhbGciOiJIUzI1NiJ9…', token_type: 'Bearer', expires_in: 900 } },
  },
  'GET /v4/{channel}/status': {
    description: 'The channel\'s status flag: 0 idle (send a batch), 1 importing (poll again), 2 package ready (download it, then ack).',
    responses: { 200: { status: 2, session_id: SESSION_ID, changed_at: '2026-12-03T08:15:02.118Z' } },
  },
  'POST /v4/{channel}/datas': {
    description: 'Uploads one batch (a zip, multipart field `archive`) in status 0. The answer comes once the batch is stored: status 1 until the worker has imported it, then 2. The archive\'s structure is checked here, its rows by the worker (the package reports them).',
    responses: {
      202: { session_id: SESSION_ID, status: 1 },
      409: { ...problem('sync_in_progress', 409, 'A sync is already in progress on this channel', 'Finish the current session first'), status: 1, session_id: SESSION_ID },
      503: problem('server_busy', 503, 'The server is busy, try again later', 'The import backlog is full'),
    },
  },
  'GET /v4/{channel}/instructions': {
    description: 'The instruction package of the session in status 2 (a zip holding `instructions.xml`), with `X-Session-Id` and an `ETag`; it may be downloaded again until acknowledged.',
  },
  'POST /v4/{channel}/ack': {
    description: 'Acknowledges the package once applied: the channel goes back to status 0. Acknowledging an already acknowledged session answers 200 again.',
    body: { session_id: SESSION_ID },
    responses: { 200: { status: 0 } },
  },
  'GET /healthz': {
    description: 'Readiness for a load balancer: 200 when the database answers, the migrations are applied and the job queue has started, with the running version (CHANGELOG.md); 503 `not_ready` (with Retry-After) otherwise.',
    responses: { 200: { status: 'ok', version: VERSION } },
  },
  'GET /metrics': {
    description: 'Prometheus text format, with `Authorization: Bearer <METRICS_TOKEN>` (off when unset). docs/OPERATIONS.md lists the figures and what to alert on.',
  },
  'POST /api/staff': {
    body: { email: 'head@school.example', password: 'a-long-password', role: 'school_admin', school_id: 1, name: 'Head teacher' },
    description: 'Backoffice creates any account; a school admin creates school admins of their own school. Without `password`, the account is opened with a reset link (`POST /api/staff/{id}/password-reset`).',
  },
  'PATCH /api/staff/{id}': { body: { name: 'Deputy head', password: 'a-new-long-password' } },
  'POST /api/schools': {
    body: { name: 'Collège Jean Moulin', timezone: 'Europe/Paris', school_days: [1, 2, 4, 5], day_end: '18:00', fever_threshold: 38 },
    responses: { 201: { id: 1, name: 'Collège Jean Moulin', timezone: 'Europe/Paris', school_days: [1, 2, 4, 5], day_end: '18:00', fever_threshold: 38, attendance_threshold: 80, late_after: null, records_from: null, ...AT } },
  },
  'PUT /api/schools/{id}': { body: { name: 'Collège Jean Moulin', timezone: 'Europe/Paris', school_days: [1, 2, 3, 4, 5], day_end: '18:00', fever_threshold: 38 } },
  'PATCH /api/schools/{id}': { body: { day_end: '17:30' } },
  'POST /api/users': {
    description: 'Adds a pupil to a school\'s roster; the devices receive it with their next package.',
    body: { school_id: 1, name: 'Alice Martin', badge: 'B-0042', enrolled_on: '2026-09-01' },
  },
  'PUT /api/users/{id}': { body: { name: 'Alice Martin', badge: 'B-0042', enrolled_on: '2026-09-01' } },
  'PATCH /api/users/{id}': { body: { badge: 'B-0043' } },
  'POST /api/attendances': {
    description: 'Records a check-in or check-out by hand (not from a device); figures of that day are recomputed.',
    body: { user_id: 42, type: 'checkin', occurred_at: '2026-12-03T08:02:00+01:00', temperature: 36.8 },
  },
  'POST /api/attendances/{id}/withdraw': {
    description: 'Withdraws a correction entered by staff: a new row cancels it (both kept, with their authors) and the day is recomputed.',
    body: { reason: 'Entered on the wrong pupil' },
  },
  'POST /api/marks': {
    description: 'Marks a pupil on a day or a range of days; an excuse needs a reason. Only the days the school is open are marked.',
    body: { user_id: 42, from: '2026-12-07', to: '2026-12-09', mark: 'excused', reason: 'illness', via: 'api' },
  },
  'PATCH /api/schools/{id}/attendance-settings': {
    description: "Sets the school's attendance rules: the week/month threshold, late_after and records_from.",
    body: { attendance_threshold: 80, late_after: '08:30', records_from: '2026-09-01' },
  },
  'POST /api/devices': {
    description: 'Registers a device. The answer holds its `secret` once: put it on the device, which signs in with `POST /v4/auth/token`. A mobile app scans `enrol_qr` instead (docs/DEVICES.md).',
    body: { school_id: 1, name: 'Main entrance terminal', kind: 'terminal', sync_interval_seconds: 300 },
    responses: {
      201: {
        id: DEVICE_ID, school_id: 1, name: 'Main entrance terminal', kind: 'terminal', sync_interval_seconds: 300, disabled_at: null, last_seen_at: null,
        last_synced_at: null, last_device_clock: null, clock_skew_seconds: null, firmware: null, reported_timezone: null, pending_records: null,
        roster_version: null, protocol: 'v4', serial_number: null, timezone: null, address_alert: null, ...AT, secret: 'the-secret-shown-once-at-registration',
        enrol_uri: `attendance-sync://enrol?v=1&server=https%3A%2F%2Fattendance.example.org&device=${DEVICE_ID}&secret=the-secret-shown-once-at-registration`,
        enrol_qr: 'data:image/png;base64,iVBORw0KGgo…',
      },
    },
  },
  'PATCH /api/devices/{id}': { body: { name: 'Back gate terminal', sync_interval_seconds: 600 } },
  'POST /api/push/terminals': {
    description: 'Registers a ZKTeco-compatible (PUSH, docs/protocol/push.md) terminal by the serial number it identifies itself with, in advance or approving one listed by `GET /api/push/pending`. Its punches are accepted from its next call. Approving a pending terminal binds it to the address it was pending at; one registered in advance is bound to the address of its first call (`address_binding`, docs/SECURITY.md).',
    body: { serial_number: 'CKJX201560123', school_id: 1, name: 'Main gate', allowed_networks: ['192.168.1.0/24'], delay_seconds: 10, address_binding: 'network' },
  },
  'POST /api/push/terminals/{id}/address': {
    description: 'Confirms where a PUSH terminal is, when calls for its serial number came from an address it is not bound to (attention reason `address_changed` or `address_conflict`): the claimed address (the terminal moved: the binding moves) or its bound address (the other caller is refused from now on). Recorded with who confirmed it (`GET /api/devices/{id}/push`, `binding.confirmations`). 409 when the address is neither, as after a stale click.',
    body: { address: '203.0.113.24' },
  },
  'PATCH /api/push/terminals/{id}': {
    description: 'Moves a PUSH terminal to another school (it then gets that roster), or changes its timezone, allow-list, address binding or poll delay. Every api process obeys it at the terminal\'s next call.',
    body: { school_id: 2, allowed_networks: null },
  },
  'GET /api/schools/{id}/held-punches': {
    description: 'Punches refused as `unknown_user` (a PUSH PIN or a v4 `user_id` no user of the school carries, such as a pupil enrolled on the terminal before the roster) or `in_future` (a suspect clock) are held on the server: PUSH once per terminal, PIN and local time, v4 once per device and record id (docs/protocol/push.md §4, docs/protocol/v4.md §4). Listed per device, PIN and reason with their count and span, until imported or discarded; `user` is the school\'s user who now carries that PIN, if any.',
    responses: { 200: { items: [{ device_id: '0b7f3c52-6a1e-4c8e-9a4f-2d1e5b8c7a90', device_name: 'Main gate', source: 'push', reason: 'unknown_user', pin: '777', punches: 2, with_temperature: 0, first_at: '2026-12-04T07:00:00.000Z', last_at: '2026-12-04T15:00:00.000Z', user: null }] } },
  },
  'POST /api/schools/{id}/held-punches/import': {
    description: 'Imports (releases) the held punches of a PIN and reason, from every device of the school or one, as one of its users\' attendances (the user\'s badge is not changed; without `user_id`, the user who carries the PIN now): stored as the imports store them (a released `in_future` punch marked clock-suspect), a missing in/out paired, a fever event for a temperature at or above the school\'s threshold, the figures recomputed in the same transaction. Once: a second call imports nothing. A user of the school created with the badge, or given it, has its `unknown_user` punches imported in the same request; a PUSH import naming the PIN does the same.',
    body: { pin: '777', user_id: 42 },
    responses: { 200: { imported: 2, already: 0 } },
  },
  'POST /api/schools/{id}/held-punches/discard': {
    description: 'Discards the held punches of a PIN and reason (from every device of the school or one): never imported, no longer listed; the rows keep who discarded them and when.',
    body: { pin: '777', reason: 'in_future' },
    responses: { 200: { discarded: 1 } },
  },
  'POST /api/devices/{id}/commands': {
    description: 'Queues a command for a PUSH terminal, sent as `C:<id>:<command>` at its next getrequest poll; its result appears in `GET /api/devices/{id}/commands`.',
    body: { command: 'INFO' },
  },
  'POST /api/devices/{id}/terminal-users/import': {
    description: 'Adds users a PUSH terminal holds but the roster lacks (`unknown_to_roster` in `GET /api/devices/{id}/terminal-users`, from its OPERLOG `USER` lines) to the terminal\'s school, as staff confirmed them: badge = the PIN, name = the terminal\'s name for it, in one transaction. 422 naming each PIN with no name on the terminal, not on it, or the badge of a deactivated user; a PIN already in the roster is answered in `skipped`, not created again.',
    body: { pins: ['901'] },
  },
  'POST /api/devices/{id}/flags': {
    description: 'Queues an instruction for one device (FLAGS.md), delivered in its next package.',
    body: { name: 'RESEND_SINCE', params: { since: '2026-11-01' }, expires_at: '2026-12-31T00:00:00Z' },
  },
  'POST /api/schools/{id}/flags': {
    description: 'Queues an instruction for every device of a school (FLAGS.md).',
    body: { name: 'RELOAD_ROSTER', params: {} },
  },
  'POST /api/schools/{id}/rebuild-figures': {
    description: 'Recomputes the figures of a school over a range of days in the background; follow it with `GET /api/jobs/{id}`.',
    body: { from: '2026-09-01', to: '2026-12-02' },
  },
  'POST /api/datamart/runs': {
    description: 'Starts a data mart export run now (one at a time), over the given window or from where the last one ended.',
    body: { from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' },
  },
  'POST /api/messages': {
    description: 'A message for one device or every device of a school, shown on the device after its next sync.',
    body: { school_id: 1, body: 'Sports day tomorrow: doors open at 7:45.', priority: 'normal', expires_at: '2026-12-05T00:00:00Z' },
  },
  // School calendar (docs/CALENDAR.md)
  'POST /api/calendars': {
    description: 'A shared calendar for the schools of a region; fill it with entries or an iCalendar import, then subscribe schools with `PUT /api/schools/{id}/calendar`.',
    body: { name: 'Vacances scolaires - Zone C', region: 'Île-de-France' },
  },
  'PATCH /api/calendars/{id}': { body: { name: 'Vacances scolaires 2025-2026 - Zone C' } },
  'POST /api/calendars/{id}/entries': { body: { kind: 'holiday', label: 'Vacances de Noël', starts_on: '2025-12-20', ends_on: '2026-01-04' } },
  'PATCH /api/calendars/{id}/entries/{entry_id}': { body: { ends_on: '2026-01-05' } },
  'PUT /api/schools/{id}/calendar': { body: { shared_calendar_id: 1 } },
  'POST /api/schools/{id}/calendar/entries': {
    description: 'The school\'s own entry: a closure (strike, snow day), a term, or a holiday of its own. Figures apply it at once, no rebuild.',
    body: { kind: 'closure', label: 'Snow day', starts_on: '2026-01-13', ends_on: '2026-01-13' },
  },
  'PATCH /api/schools/{id}/calendar/entries/{entry_id}': { body: { label: 'Snow day (buses cancelled)' } },
};

/** The example of a problem response with no example of its own, by status. */
export const PROBLEM_EXAMPLES: Record<number, unknown> = {
  400: problem('bad_request', 400, 'Bad request', 'The body is not valid JSON'),
  401: problem('unauthorized', 401, 'Authentication required', 'Send Authorization: Bearer <token>'),
  403: problem('forbidden', 403, 'Not allowed', 'This needs a backoffice account'),
  404: problem('not_found', 404, 'Not found', 'No such resource'),
  409: problem('conflict', 409, 'Conflict', 'The resource changed meanwhile'),
  413: problem('archive_too_large', 413, 'The archive is larger than allowed', 'The archive is larger than 52428800 bytes'),
  415: problem('unsupported_media_type', 415, 'Expected a multipart upload holding a zip', 'Send multipart/form-data with one file field named "archive"'),
  422: { ...problem('validation_failed', 422, 'Validation failed', 'body.name: Too small: expected string to have >=1 characters'), errors: [{ field: 'body.name', message: 'Too small: expected string to have >=1 characters' }] },
  429: problem('rate_limited', 429, 'Too many attempts, slow down', 'Too many failed attempts; try again in 60 s'),
  503: problem('service_unavailable', 503, 'The service is unavailable, try again later', 'The database cannot be reached at the moment; try again later'),
};

// Special sync flags (docs/protocol/v4.md §6): pending until a package carries them (delivered),
// applied when that package is acknowledged. Every change writes a flag_events row (the audit
// trail): set, replaced, cancelled, expired, delivered, requeued, applied.
//
// A pending flag is one not delivered, cancelled or applied; one pending flag per (device, name)
// (unique partial index). An expired pending flag is never delivered; it is "settled" (closed
// with cancelled_at = expires_at and an 'expired' event) before anything needs its slot, so the
// state reads 'expired' whenever expires_at <= coalesce(cancelled_at, now()).
import { sql, type RawBuilder } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { DeviceFlag } from '../schema/index.js';

export type FlagState = 'pending' | 'delivered' | 'applied' | 'cancelled' | 'expired';
export const FLAG_STATES = ['pending', 'delivered', 'applied', 'cancelled', 'expired'] as const satisfies readonly FlagState[];

/** The state as SQL, so lists can filter on it. */
const STATE_SQL = sql<FlagState>`CASE
  WHEN f.applied_at IS NOT NULL THEN 'applied'
  WHEN f.delivered_at IS NOT NULL THEN 'delivered'
  WHEN f.expires_at IS NOT NULL AND f.expires_at <= coalesce(f.cancelled_at, now()) THEN 'expired'
  WHEN f.cancelled_at IS NOT NULL THEN 'cancelled'
  ELSE 'pending' END`;

/** Not delivered, cancelled or applied: what the unique partial index covers. */
const OPEN_SQL = sql`f.delivered_in IS NULL AND f.cancelled_at IS NULL AND f.applied_at IS NULL`;
/** Open and not expired: pending, the one rule of `pendingFlagsQuery` and `hasPendingFlagsSql`. */
const PENDING_SQL = sql<boolean>`${OPEN_SQL} AND (f.expires_at IS NULL OR f.expires_at > now())`;

export interface FlagRow extends DeviceFlag {
  state: FlagState;
  /** Who set it, by email (the audit names people); null once that account is deleted. */
  set_by_email: string | null;
}

/**
 * Flags that the next manifest or package must honour: not delivered, cancelled, applied or
 * expired. `lock` (the worker, building a package): the rows stay locked until its commit, so a
 * cancellation or replacement waits and then sees the flag delivered.
 */
export async function pendingFlags(db: DbOrTrx, schoolId: number, deviceId: string, opts: { lock?: boolean } = {}): Promise<DeviceFlag[]> {
  let q = pendingFlagsQuery(db, schoolId, deviceId).selectAll().orderBy('id');
  if (opts.lock) q = q.forUpdate();
  return q.execute();
}

/** Whether device `deviceRef` (an SQL expression; of school `schoolRef` when given) has pending flags, for a raw statement. */
export function hasPendingFlagsSql(deviceRef: RawBuilder<unknown>, schoolRef?: RawBuilder<unknown>): RawBuilder<boolean> {
  const ofSchool = schoolRef ? sql` AND f.school_id = ${schoolRef}` : sql``;
  return sql<boolean>`EXISTS (SELECT 1 FROM device_flags f WHERE f.device_id = ${deviceRef}${ofSchool} AND ${PENDING_SQL})`;
}

/** The same flags as a query to select from, for a statement that reads them with other things. */
export function pendingFlagsQuery(db: DbOrTrx, schoolId: number, deviceId: string) {
  return db.selectFrom('device_flags as f').where('f.school_id', '=', schoolId).where('f.device_id', '=', deviceId).where(PENDING_SQL);
}

export async function markDelivered(trx: Trx, schoolId: number, flagIds: number[], sessionId: string): Promise<number[]> {
  if (flagIds.length === 0) return [];
  // Only flags still pending: one cancelled or replaced meanwhile is not marked.
  const rows = await trx.updateTable('device_flags').set({ delivered_in: sessionId, delivered_at: sql`now()` })
    .where('school_id', '=', schoolId).where('id', 'in', flagIds).where('delivered_in', 'is', null).where('cancelled_at', 'is', null).where('applied_at', 'is', null)
    .returning(['id', 'school_id', 'device_id']).execute();
  if (rows.length > 0) {
    await trx.insertInto('flag_events')
      .values(rows.map((r) => ({ school_id: r.school_id, flag_id: r.id, device_id: r.device_id, action: 'delivered', session_id: sessionId })))
      .execute();
  }
  return rows.map((r) => r.id);
}

/** Closes the expired pending flags of these devices (one statement) and records when each expired. */
export async function settleExpired(db: DbOrTrx, deviceIds: readonly string[]): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const result = await sql`
    WITH expired AS (
      UPDATE device_flags f SET cancelled_at = f.expires_at
      WHERE f.device_id = ANY(${[...deviceIds]}::uuid[]) AND ${OPEN_SQL} AND f.expires_at <= now()
      RETURNING f.id, f.school_id, f.device_id, f.expires_at
    )
    INSERT INTO flag_events (school_id, flag_id, device_id, action, at, details)
    SELECT school_id, id, device_id, 'expired', expires_at, jsonb_build_object('noticed_at', now()) FROM expired
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export interface SetFlagInput {
  /** The devices' one school. */
  schoolId: number;
  deviceIds: readonly string[];
  name: string;
  params: Record<string, unknown>;
  expiresAt: Date | null;
  /** Null: set by the operator's admin CLI without naming an account (its admin_actions row is the audit). */
  staffId: number | null;
  /** Recorded on each event, e.g. {school_id} for a school-wide flag. */
  details?: Record<string, unknown>;
}

export interface SetFlagResult {
  id: number;
  device_id: string;
  replaced: boolean;
}

/**
 * Sets a flag on each device, set-based: a flag of that name already pending on a device is
 * replaced in place (same id; newer parameters, expiry and author win; RESEND_SINCE progress
 * starts over) with a 'replaced' event holding the previous values; other devices get a new
 * pending flag and a 'set' event. Must run in the request's transaction.
 */
export async function setFlags(trx: Trx, input: SetFlagInput): Promise<SetFlagResult[]> {
  if (input.deviceIds.length === 0) return [];
  const ids = [...input.deviceIds];
  const params = JSON.stringify(input.params);
  const details = JSON.stringify(input.details ?? {});
  await settleExpired(trx, ids);

  const replaced = await sql<{ id: number; device_id: string }>`
    WITH previous AS (
      SELECT f.id, f.params, f.expires_at, f.set_by, f.set_at, f.progress FROM device_flags f
      WHERE f.school_id = ${input.schoolId} AND f.device_id = ANY(${ids}::uuid[]) AND f.name = ${input.name} AND ${OPEN_SQL}
      FOR UPDATE
    ), updated AS (
      UPDATE device_flags f SET params = ${params}::jsonb, expires_at = ${input.expiresAt}::timestamptz, set_by = ${input.staffId}::bigint, set_at = now(), progress = NULL
      FROM previous p WHERE f.school_id = ${input.schoolId} AND f.id = p.id AND ${OPEN_SQL}
      RETURNING f.id, f.school_id, f.device_id, p.params AS previous_params, p.expires_at AS previous_expires_at, p.set_by AS previous_set_by,
        p.set_at AS previous_set_at, p.progress AS previous_progress
    ), events AS (
      INSERT INTO flag_events (school_id, flag_id, device_id, action, staff_id, details)
      SELECT u.school_id, u.id, u.device_id, 'replaced', ${input.staffId}::bigint, ${details}::jsonb || jsonb_build_object(
        'params', ${params}::jsonb, 'expires_at', ${input.expiresAt}::timestamptz,
        'previous', jsonb_build_object('params', u.previous_params, 'expires_at', u.previous_expires_at, 'set_by', u.previous_set_by,
          'set_by_email', (SELECT email FROM staff WHERE id = u.previous_set_by), 'set_at', u.previous_set_at, 'progress', u.previous_progress))
      FROM updated u
    )
    SELECT id, device_id FROM updated
  `.execute(trx);

  const done = new Set(replaced.rows.map((r) => r.device_id));
  const fresh = ids.filter((id) => !done.has(id));
  // A concurrent request may have inserted one meanwhile: the partial index makes that a replacement too.
  const inserted = fresh.length === 0 ? { rows: [] } : await sql<{ id: number; device_id: string; replaced: boolean }>`
    WITH ins AS (
      INSERT INTO device_flags (school_id, device_id, name, params, set_by, expires_at)
      SELECT d.school_id, d.id, ${input.name}::text, ${params}::jsonb, ${input.staffId}::bigint, ${input.expiresAt}::timestamptz
      FROM unnest(${fresh}::uuid[]) WITH ORDINALITY AS u(id, n) JOIN devices d ON d.school_id = ${input.schoolId} AND d.id = u.id ORDER BY u.n
      ON CONFLICT (device_id, name, school_id) WHERE delivered_in IS NULL AND cancelled_at IS NULL AND applied_at IS NULL
      DO UPDATE SET params = EXCLUDED.params, expires_at = EXCLUDED.expires_at, set_by = EXCLUDED.set_by, set_at = now(), progress = NULL
      RETURNING id, school_id, device_id, (xmax <> 0) AS replaced
    ), events AS (
      INSERT INTO flag_events (school_id, flag_id, device_id, action, staff_id, details)
      SELECT school_id, id, device_id, CASE WHEN replaced THEN 'replaced' ELSE 'set' END, ${input.staffId}::bigint,
        ${details}::jsonb || jsonb_build_object('params', ${params}::jsonb, 'expires_at', ${input.expiresAt}::timestamptz)
      FROM ins
    )
    SELECT id, device_id, replaced FROM ins
  `.execute(trx);

  return [...replaced.rows.map((r) => ({ ...r, replaced: true })), ...inserted.rows];
}

/**
 * A flag that acts on the server when set (RESET_SESSION): recorded already applied, with its
 * 'set' and 'applied' events; `applied` holds what was done per device.
 */
export async function recordAppliedFlag(trx: Trx, input: Omit<SetFlagInput, 'expiresAt'> & { applied: Map<string, Record<string, unknown>> }): Promise<SetFlagResult[]> {
  if (input.deviceIds.length === 0) return [];
  const rows = await sql<{ id: number; school_id: number; device_id: string }>`
    INSERT INTO device_flags (school_id, device_id, name, params, set_by, applied_at)
    SELECT d.school_id, d.id, ${input.name}::text, ${JSON.stringify(input.params)}::jsonb, ${input.staffId}::bigint, now()
    FROM unnest(${[...input.deviceIds]}::uuid[]) WITH ORDINALITY AS u(id, n) JOIN devices d ON d.school_id = ${input.schoolId} AND d.id = u.id ORDER BY u.n
    RETURNING id, school_id, device_id`.execute(trx).then((r) => r.rows);
  const details = input.details ?? {};
  await trx.insertInto('flag_events').values(rows.flatMap((r) => [
    { school_id: r.school_id, flag_id: r.id, device_id: r.device_id, action: 'set', staff_id: input.staffId, details: JSON.stringify({ ...details, params: input.params }) },
    { school_id: r.school_id, flag_id: r.id, device_id: r.device_id, action: 'applied', staff_id: input.staffId, details: JSON.stringify(input.applied.get(r.device_id) ?? {}) },
  ])).execute();
  return rows.map((r) => ({ ...r, replaced: false }));
}

/**
 * A session closed without acknowledgement (RESET_SESSION): the flags its package carried were
 * never applied, so they become pending again — unless a flag of the same name is pending by
 * now, which supersedes them (they are cancelled).
 */
export async function requeueUnacknowledged(trx: Trx, sessionId: string, staffId: number | null): Promise<void> {
  await sql`
    WITH carried AS (
      SELECT f.id, f.school_id, f.device_id, f.name FROM device_flags f
      WHERE f.delivered_in = ${sessionId}::uuid AND f.applied_at IS NULL AND f.cancelled_at IS NULL
      FOR UPDATE
    ), superseded AS (
      SELECT c.id FROM carried c
      WHERE EXISTS (SELECT 1 FROM device_flags o WHERE o.device_id = c.device_id AND o.name = c.name AND o.id <> c.id
        AND o.delivered_in IS NULL AND o.cancelled_at IS NULL AND o.applied_at IS NULL)
    ), changed AS (
      UPDATE device_flags f
      SET delivered_in = CASE WHEN s.id IS NULL THEN NULL ELSE f.delivered_in END,
          delivered_at = CASE WHEN s.id IS NULL THEN NULL ELSE f.delivered_at END,
          cancelled_at = CASE WHEN s.id IS NULL THEN NULL ELSE now() END
      FROM carried c LEFT JOIN superseded s ON s.id = c.id
      WHERE f.id = c.id
      RETURNING f.id, f.school_id, f.device_id, s.id IS NOT NULL AS superseded
    )
    INSERT INTO flag_events (school_id, flag_id, device_id, action, staff_id, session_id, details)
    SELECT school_id, id, device_id, CASE WHEN superseded THEN 'cancelled' ELSE 'requeued' END, ${staffId}::bigint, ${sessionId}::uuid,
      jsonb_build_object('reason', CASE WHEN superseded THEN 'superseded by a pending flag of the same name' ELSE 'its session was reset before acknowledgement' END)
    FROM changed
  `.execute(trx);
}

export type CancelResult = { ok: true } | { ok: false; state: FlagState | null };

/** Cancels a pending flag of this device; otherwise says why not (null: no such flag on this device). */
export async function cancelFlag(trx: Trx, schoolId: number, deviceId: string, flagId: number, staffId: number): Promise<CancelResult> {
  await settleExpired(trx, [deviceId]);
  // delivered_at: a PUSH terminal's flag has no session, but once a command of it went out it is delivered.
  const row = await trx.updateTable('device_flags').set({ cancelled_at: sql`now()` })
    .where('school_id', '=', schoolId).where('id', '=', flagId).where('device_id', '=', deviceId)
    .where('delivered_in', 'is', null).where('delivered_at', 'is', null).where('cancelled_at', 'is', null).where('applied_at', 'is', null)
    .returning(['id', 'school_id', 'device_id']).executeTakeFirst();
  if (row) {
    await trx.insertInto('flag_events').values({ school_id: row.school_id, flag_id: row.id, device_id: row.device_id, action: 'cancelled', staff_id: staffId }).execute();
    // On a PUSH terminal the flag was queued as commands when it was set: they go with it.
    await trx.updateTable('push_commands').set({ status: 'cancelled', finished_at: sql`now()`, failure: 'its flag was cancelled' })
      .where('school_id', '=', row.school_id).where('flag_id', '=', row.id).where('status', '=', 'queued').execute();
    return { ok: true };
  }
  const found = await findFlag(trx, schoolId, deviceId, flagId);
  return { ok: false, state: found?.state ?? null };
}

function flagsQuery(db: DbOrTrx) {
  return db.selectFrom('device_flags as f').leftJoin('staff as s', 's.id', 'f.set_by')
    .selectAll('f').select([STATE_SQL.as('state'), 's.email as set_by_email']);
}

export async function findFlag(db: DbOrTrx, schoolId: number, deviceId: string, flagId: number): Promise<FlagRow | undefined> {
  return flagsQuery(db).where('f.school_id', '=', schoolId).where('f.id', '=', flagId).where('f.device_id', '=', deviceId).executeTakeFirst();
}

export async function findFlags(db: DbOrTrx, schoolId: number, ids: readonly number[]): Promise<FlagRow[]> {
  if (ids.length === 0) return [];
  return flagsQuery(db).where('f.school_id', '=', schoolId).where('f.id', 'in', [...ids]).orderBy('f.id').execute();
}

/** Newest first, keyset on id. */
export async function listFlags(db: DbOrTrx, schoolId: number, deviceId: string, opts: { state?: FlagState; name?: string; beforeId: number | null; limit: number }): Promise<FlagRow[]> {
  let q = flagsQuery(db).where('f.school_id', '=', schoolId).where('f.device_id', '=', deviceId).orderBy('f.id', 'desc').limit(opts.limit);
  if (opts.state) q = q.where(STATE_SQL, '=', opts.state);
  if (opts.name) q = q.where('f.name', '=', opts.name);
  if (opts.beforeId !== null) q = q.where('f.id', '<', opts.beforeId);
  return q.execute();
}

/** Names of the flags pending on each device (not expired), for device health. */
export async function pendingFlagNames(db: DbOrTrx, schoolId: number | null, deviceIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (deviceIds.length === 0) return out;
  let q = db.selectFrom('device_flags').select(['device_id', 'name'])
    .where('device_id', 'in', [...deviceIds])
    .where('delivered_in', 'is', null).where('cancelled_at', 'is', null).where('applied_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('id');
  if (schoolId !== null) q = q.where('school_id', '=', schoolId);
  const rows = await q.execute();
  for (const r of rows) out.set(r.device_id, [...(out.get(r.device_id) ?? []), r.name]);
  return out;
}

export interface FlagEventRow {
  id: number;
  flag_id: number;
  flag_name: string;
  action: string;
  staff_id: number | null;
  staff_email: string | null;
  session_id: string | null;
  details: Record<string, unknown> | null;
  at: Date;
  /** `at` in microseconds since the epoch: the paging key (a JS Date would drop the microseconds). */
  at_us: number;
}

/** The audit trail of a device's flags, newest first (keyset on at, id). */
export async function listFlagEvents(db: DbOrTrx, schoolId: number, deviceId: string, opts: { flagId?: number; before: { at_us: number; id: number } | null; limit: number }): Promise<FlagEventRow[]> {
  let q = db.selectFrom('flag_events as e')
    .innerJoin('device_flags as f', (j) => j.onRef('f.school_id', '=', 'e.school_id').onRef('f.id', '=', 'e.flag_id'))
    .leftJoin('staff as s', 's.id', 'e.staff_id')
    .select(['e.id', 'e.flag_id', 'f.name as flag_name', 'e.action', 'e.staff_id', 's.email as staff_email', 'e.session_id', 'e.details', 'e.at'])
    .select(sql<number>`(extract(epoch FROM e.at) * 1000000)::bigint`.as('at_us'))
    .where('e.school_id', '=', schoolId).where('e.device_id', '=', deviceId)
    .orderBy('e.at', 'desc').orderBy('e.id', 'desc')
    .limit(opts.limit);
  if (opts.flagId !== undefined) q = q.where('e.flag_id', '=', opts.flagId);
  if (opts.before) {
    const { at_us, id } = opts.before;
    q = q.where(sql<boolean>`(e.at, e.id) < (to_timestamp(0) + ${at_us}::bigint * interval '1 microsecond', ${id}::bigint)`);
  }
  return q.execute() as Promise<FlagEventRow[]>;
}

/** RESEND_SINCE progress, merged into the flag's progress while it is still pending. */
export async function mergeFlagProgress(db: DbOrTrx, schoolId: number, flagId: number, patch: Record<string, unknown>): Promise<void> {
  await db.updateTable('device_flags')
    .set({ progress: sql`coalesce(progress, '{}'::jsonb) || ${JSON.stringify(patch)}::jsonb` })
    .where('school_id', '=', schoolId).where('id', '=', flagId).where('delivered_in', 'is', null).where('cancelled_at', 'is', null).where('applied_at', 'is', null)
    .execute();
}

/** The RESEND_SINCE window a manifest showed, stamped with the database's clock (the clock of set_at and received_at). */
export async function recordResendOffer(db: DbOrTrx, schoolId: number, flagId: number, window: { from: string; to: string }): Promise<void> {
  const at = sql`to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  await db.updateTable('device_flags')
    .set({ progress: sql`coalesce(progress, '{}'::jsonb) || jsonb_build_object('offered', jsonb_build_object('from', ${window.from}::text, 'to', ${window.to}::text, 'at', ${at}))` })
    .where('school_id', '=', schoolId).where('id', '=', flagId).where('delivered_in', 'is', null).where('cancelled_at', 'is', null).where('applied_at', 'is', null)
    .execute();
}

/** The time zone of the device's school: RESEND_SINCE days are the school's days. */
export async function deviceTimeZone(db: DbOrTrx, schoolId: number, deviceId: string): Promise<string> {
  const row = await db.selectFrom('devices').innerJoin('schools', 'schools.id', 'devices.school_id')
    .select('schools.timezone').where('devices.school_id', '=', schoolId).where('devices.id', '=', deviceId).executeTakeFirst();
  return row?.timezone ?? 'UTC';
}

// Devices: registration, secrets, and what a device reports about itself.
import { sql, type QueryCreator } from 'kysely';
import type { Database, DbOrTrx } from '../database.js';
import type { Device, DeviceUpdate, NewDevice } from '../schema/index.js';

export const DEVICE_PUBLIC = [
  'devices.id', 'devices.school_id', 'devices.name', 'devices.kind', 'devices.disabled_at', 'devices.sync_interval_seconds',
  'devices.last_seen_at', 'devices.last_synced_at', 'devices.last_device_clock', 'devices.clock_skew_seconds', 'devices.firmware',
  'devices.reported_timezone', 'devices.pending_records', 'devices.roster_version', 'devices.created_at', 'devices.updated_at',
  'devices.protocol', 'devices.serial_number', 'devices.timezone', 'devices.address_alert',
] as const;
export type PublicDevice = Omit<Device, 'secret_hash' | 'reported_settings' | 'allowed_networks'>;

export async function insertDevice(db: DbOrTrx, device: NewDevice): Promise<PublicDevice> {
  return db.insertInto('devices').values(device).returning(DEVICE_PUBLIC).executeTakeFirstOrThrow();
}

/** Every device of the school (disabled ones included), in id order. */
export async function deviceIdsOfSchool(db: DbOrTrx, schoolId: number): Promise<string[]> {
  const rows = await db.selectFrom('devices').select('id').where('school_id', '=', schoolId).orderBy('id').execute();
  return rows.map((r) => r.id);
}

export async function findDevice(db: DbOrTrx, schoolId: number, id: string): Promise<PublicDevice | undefined> {
  return db.selectFrom('devices').select(DEVICE_PUBLIC).where('devices.school_id', '=', schoolId).where('devices.id', '=', id).executeTakeFirst();
}

/**
 * Notes that the device called, at most every 10 s so that its calls do not each rewrite its row:
 * an UPDATE to put in a WITH, so the note costs no round trip of its own.
 */
export function noteSeen(qb: QueryCreator<Database>, schoolId: number, deviceId: string) {
  return qb.updateTable('devices').set({ last_seen_at: sql`now()` })
    .where('school_id', '=', schoolId).where('id', '=', deviceId)
    .where(SEEN_LONG_AGO);
}

/** The last note is 10 s old or more (or there is none). */
const SEEN_LONG_AGO = sql<boolean>`(last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds')`;

/** `noteSeen` as SQL text, for a statement written as text (db/repositories/sync.ts storeSessionIfClear). */
export function noteSeenSql(schoolId: number, deviceId: string) {
  return sql`UPDATE devices SET last_seen_at = now() WHERE school_id = ${schoolId} AND id = ${deviceId}::uuid AND ${SEEN_LONG_AGO}`;
}

/**
 * The device's school, as an expression for the writers of per-school rows that know only the
 * device (docs/scaling-schema.md): the row gets its school_id in the same statement.
 */
export function schoolOfDevice(deviceId: string) {
  return sql<number>`(SELECT school_id FROM devices WHERE id = ${deviceId}::uuid)`;
}

/** True when the device still exists and is enabled; notes that it was seen. */
export async function isActiveDevice(db: DbOrTrx, schoolId: number, deviceId: string): Promise<boolean> {
  const row = await db.with('seen', (qb) => noteSeen(qb, schoolId, deviceId))
    .selectFrom('devices').select('disabled_at').where('school_id', '=', schoolId).where('id', '=', deviceId).executeTakeFirst();
  return row !== undefined && row.disabled_at === null;
}

/** For the token endpoint only: the secret hash never leaves the auth code. */
/** The networks a PUSH terminal may call from (null: anywhere). */
export async function allowedNetworksOf(db: DbOrTrx, schoolId: number, id: string): Promise<string[] | null> {
  const row = await db.selectFrom('devices').select('allowed_networks').where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
  return row?.allowed_networks ?? null;
}

/** By id alone, any school: a device signs in with its id and secret, and its token then names its school. */
export async function findDeviceCredentials(db: DbOrTrx, id: string) {
  return db.selectFrom('devices').select(['id', 'school_id', 'secret_hash', 'disabled_at']).where('id', '=', id).executeTakeFirst();
}

/** `schoolId`: the device's school now (a patch may move it to another). */
export async function updateDevice(db: DbOrTrx, schoolId: number, id: string, patch: DeviceUpdate): Promise<PublicDevice | undefined> {
  return db.updateTable('devices').set({ ...patch, updated_at: new Date() }).where('school_id', '=', schoolId).where('id', '=', id)
    .returning(DEVICE_PUBLIC).executeTakeFirst();
}

export async function listDevices(db: DbOrTrx, opts: { schoolId: number | null; afterId: string | null; limit: number }): Promise<PublicDevice[]> {
  let q = db.selectFrom('devices').select(DEVICE_PUBLIC).orderBy('devices.id').limit(opts.limit);
  if (opts.schoolId !== null) q = q.where('devices.school_id', '=', opts.schoolId);
  if (opts.afterId !== null) q = q.where('devices.id', '>', opts.afterId);
  return q.execute();
}

/** Device names by id (for exports that name the device of each row), of one school or (null: a back-office export) of every school. */
export async function deviceNames(db: DbOrTrx, schoolId: number | null, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  let q = db.selectFrom('devices').select(['id', 'name']).where('id', 'in', ids);
  if (schoolId !== null) q = q.where('school_id', '=', schoolId);
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

// Messages both ways (docs/protocol/v4.md §7): from the office to a device or a whole school, delivered
// once per device when the package carrying it is acknowledged; and from devices (messages.csv)
// to the school's admins. Fever alerts sent down messagerie are tracked the same way.
import { sql } from 'kysely';
import type { MessageRow } from '../../shared/csv/message-row.js';
import type { DbOrTrx, Trx } from '../database.js';
import type { MessagePriority } from '../schema/index.js';

export interface NewMessage {
  schoolId: number;
  deviceId: string | null;
  body: string;
  priority: MessagePriority;
  expiresAt: Date | null;
  createdBy: number;
}

const outgoingColumns = ['m.id', 'm.school_id', 'm.device_id', 'm.body', 'm.priority', 'm.expires_at', 'm.created_by', 's.email as created_by_email', 'm.created_at'] as const;

export async function insertMessage(trx: Trx, m: NewMessage) {
  const row = await trx.insertInto('messages').values({
    school_id: m.schoolId, device_id: m.deviceId, body: m.body, priority: m.priority, expires_at: m.expiresAt, created_by: m.createdBy,
  }).returning('id').executeTakeFirstOrThrow();
  return (await listOutgoing(trx, { schoolId: m.schoolId, id: row.id, limit: 1 }))[0];
}

/** Office messages, newest first, with how many devices received each. */
export async function listOutgoing(db: DbOrTrx, f: { schoolId: number | null; id?: number; beforeId?: number | null; limit: number }) {
  let q = db.selectFrom('messages as m')
    .leftJoin('staff as s', 's.id', 'm.created_by')
    .select(outgoingColumns)
    .select(sql<number>`(SELECT count(*)::int FROM message_deliveries d WHERE d.school_id = m.school_id AND d.message_id = m.id)`.as('delivered_count'))
    .orderBy('m.id', 'desc').limit(f.limit);
  if (f.schoolId !== null) q = q.where('m.school_id', '=', f.schoolId);
  if (f.id !== undefined) q = q.where('m.id', '=', f.id);
  if (f.beforeId) q = q.where('m.id', '<', f.beforeId);
  return q.execute();
}

/** Messages from devices, newest first. */
export async function listFromDevices(db: DbOrTrx, f: { schoolId: number | null; kind?: 'info' | 'incident'; beforeId?: number | null; limit: number }) {
  let q = db.selectFrom('device_messages as m')
    .innerJoin('devices as d', 'd.id', 'm.device_id')
    .select(['m.id', 'm.school_id', 'm.device_id', 'd.name as device_name', 'm.record_id', 'm.kind', 'm.body', 'm.created_at', 'm.received_at'])
    .orderBy('m.id', 'desc').limit(f.limit);
  if (f.schoolId !== null) q = q.where('m.school_id', '=', f.schoolId);
  if (f.kind) q = q.where('m.kind', '=', f.kind);
  if (f.beforeId) q = q.where('m.id', '<', f.beforeId);
  return q.execute();
}

/** Office messages addressed to the device or its school, unexpired at `now` and not yet delivered to it, oldest first. */
export async function undeliveredMessages(trx: Trx, device: { id: string; schoolId: number }, now: Date, limit: number) {
  return trx.selectFrom('messages as m')
    .select(['m.id', 'm.priority', 'm.created_at', 'm.expires_at', 'm.body'])
    .where((eb) => eb.or([eb('m.device_id', '=', device.id), eb.and([eb('m.device_id', 'is', null), eb('m.school_id', '=', device.schoolId)])]))
    .where((eb) => eb.or([eb('m.expires_at', 'is', null), eb('m.expires_at', '>', now)]))
    .where(({ not, exists, selectFrom }) => not(exists(
      selectFrom('message_deliveries as d').select('d.message_id').whereRef('d.message_id', '=', 'm.id').where('d.device_id', '=', device.id),
    )))
    .orderBy('m.id').limit(limit).execute();
}

/**
 * The school's fever alerts raised since the device was registered and not yet delivered to it,
 * oldest first (a new device does not receive the school's whole history).
 */
export async function undeliveredAlerts(trx: Trx, device: { id: string; schoolId: number }, limit: number) {
  const rows = await sql<{ id: number; record_id: number | null; user_id: number | null; temperature: number; occurred_at: Date }>`
    SELECT f.id, f.record_id, f.user_id, f.temperature::float8 AS temperature, f.occurred_at
    FROM fever_events f
    WHERE f.school_id = ${device.schoolId}
      AND f.created_at >= (SELECT created_at FROM devices WHERE id = ${device.id}::uuid)
      AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.fever_event_id = f.id AND d.device_id = ${device.id}::uuid)
    ORDER BY f.created_at, f.id LIMIT ${limit}
  `.execute(trx);
  return rows.rows;
}

/** On acknowledgement: what the package offered is now delivered, once per device whatever happens after. */
export async function recordDeliveries(trx: Trx, schoolId: number, deviceId: string, sessionId: string, offered: { messages?: number[]; alerts?: number[] }): Promise<void> {
  if (offered.messages?.length) {
    await sql`INSERT INTO message_deliveries (school_id, message_id, device_id, session_id)
      SELECT ${schoolId}::bigint, unnest(${offered.messages}::bigint[]), ${deviceId}::uuid, ${sessionId}::uuid ON CONFLICT DO NOTHING`.execute(trx);
  }
  if (offered.alerts?.length) {
    await sql`INSERT INTO alert_deliveries (school_id, fever_event_id, device_id, session_id)
      SELECT ${schoolId}::bigint, unnest(${offered.alerts}::bigint[]), ${deviceId}::uuid, ${sessionId}::uuid ON CONFLICT DO NOTHING`.execute(trx);
  }
}

export async function insertDeviceMessages(trx: Trx, target: { schoolId: number; deviceId: string; sessionId: string }, rows: readonly MessageRow[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const result = await sql<{ record_id: number }>`
    INSERT INTO device_messages (school_id, device_id, record_id, kind, body, created_at, session_id)
    SELECT ${target.schoolId}, ${target.deviceId}::uuid, t.record_id, t.kind, t.body, t.created_at, ${target.sessionId}::uuid
    FROM unnest(${rows.map((r) => r.recordId)}::bigint[], ${rows.map((r) => r.kind)}::text[], ${rows.map((r) => r.body)}::text[],
                ${rows.map((r) => r.createdAt)}::timestamptz[]) AS t(record_id, kind, body, created_at)
    ON CONFLICT (device_id, record_id, school_id) DO NOTHING
    RETURNING record_id
  `.execute(trx);
  return result.rows.map((r) => Number(r.record_id));
}

export async function storedDeviceMessages(trx: Trx, schoolId: number, deviceId: string, recordIds: readonly number[]) {
  if (recordIds.length === 0) return new Map<number, { kind: string; body: string; created_at: Date }>();
  const rows = await trx.selectFrom('device_messages').select(['record_id', 'kind', 'body', 'created_at'])
    .where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('record_id', 'in', [...recordIds]).execute();
  return new Map(rows.map((r) => [Number(r.record_id), r]));
}

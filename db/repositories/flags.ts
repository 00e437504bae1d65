// Special sync flags (PROTOCOL.md §6): pending until a package carries them (delivered),
// applied when that package is acknowledged.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';
import type { DeviceFlag } from '../schema/index.js';

/** Flags that the next manifest or package must honour: not delivered, cancelled, applied or expired. */
export async function pendingFlags(db: DbOrTrx, deviceId: string): Promise<DeviceFlag[]> {
  return db.selectFrom('device_flags').selectAll()
    .where('device_id', '=', deviceId)
    .where('delivered_in', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('applied_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('id')
    .execute();
}

export async function markDelivered(trx: Trx, flagIds: number[], sessionId: string): Promise<void> {
  if (flagIds.length === 0) return;
  await trx.updateTable('device_flags').set({ delivered_in: sessionId, delivered_at: sql`now()` }).where('id', 'in', flagIds).execute();
  await trx.insertInto('flag_events').columns(['flag_id', 'device_id', 'action', 'session_id'])
    .expression((eb) => eb.selectFrom('device_flags').select(['id', 'device_id', sql.lit('delivered').as('action'), sql.val(sessionId).as('session_id')]).where('id', 'in', flagIds))
    .execute();
}

/** On acknowledgement, in the same transaction as the status change. */
export async function applyDelivered(trx: Trx, sessionId: string): Promise<number[]> {
  const rows = await trx.updateTable('device_flags').set({ applied_at: sql`now()` })
    .where('delivered_in', '=', sessionId).where('applied_at', 'is', null).where('cancelled_at', 'is', null)
    .returning(['id', 'device_id']).execute();
  if (rows.length > 0) {
    await trx.insertInto('flag_events').values(rows.map((r) => ({ flag_id: r.id, device_id: r.device_id, action: 'applied', session_id: sessionId }))).execute();
  }
  return rows.map((r) => r.id);
}

// The operator's break-glass CLI's audit (bin/admin.ts): one row per command, in its transaction.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export interface AdminAction {
  command: string;
  operator: string;
  staffId: number | null;
  args: Record<string, unknown>;
  result: Record<string, unknown>;
}

export async function recordAdminAction(db: DbOrTrx, action: AdminAction): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO admin_actions (command, operator, staff_id, args, result)
    VALUES (${action.command}, ${action.operator}, ${action.staffId}, ${JSON.stringify(action.args)}::jsonb, ${JSON.stringify(action.result)}::jsonb)
    RETURNING id`.execute(db);
  return Number(rows[0].id);
}

export async function listAdminActions(db: DbOrTrx, limit: number): Promise<Array<AdminAction & { id: number; at: Date }>> {
  const { rows } = await sql<{ id: string; at: Date; command: string; operator: string; staff_id: string | null; args: Record<string, unknown>; result: Record<string, unknown> }>`
    SELECT id, at, command, operator, staff_id, args, result FROM admin_actions ORDER BY id DESC LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({ id: Number(r.id), at: r.at, command: r.command, operator: r.operator, staffId: r.staff_id === null ? null : Number(r.staff_id), args: r.args, result: r.result }));
}

/** Every school's id (`--all`). */
export async function schoolIds(db: DbOrTrx): Promise<number[]> {
  return (await db.selectFrom('schools').select('id').orderBy('id').execute()).map((s) => Number(s.id));
}

/** A school that leaves: its devices disabled (kept: devices are never deleted), its staff accounts removed. */
export async function offboardSchool(db: DbOrTrx, schoolId: number): Promise<{ devices_disabled: number; staff_removed: number }> {
  const devices = await sql`UPDATE devices SET disabled_at = coalesce(disabled_at, now()) WHERE school_id = ${schoolId} AND disabled_at IS NULL`.execute(db);
  const staff = await sql`DELETE FROM staff WHERE school_id = ${schoolId}`.execute(db);
  return { devices_disabled: Number(devices.numAffectedRows ?? 0), staff_removed: Number(staff.numAffectedRows ?? 0) };
}

export async function setStaffPassword(db: DbOrTrx, staffId: number, passwordHash: string): Promise<void> {
  await db.updateTable('staff').set({ password_hash: passwordHash }).where('id', '=', staffId).execute();
}

/** False when there is no such device. */
export async function setDeviceSecretHash(db: DbOrTrx, deviceId: string, secretHash: string): Promise<boolean> {
  const r = await sql`UPDATE devices SET secret_hash = ${secretHash} WHERE id::text = ${deviceId}`.execute(db);
  return Number(r.numAffectedRows ?? 0) > 0;
}

// The users a PUSH terminal holds (its OPERLOG and USERINFO answers) against the school's roster, and
// the roster version each terminal was sent (channels/push/roster.ts queues the changes).
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../../database.js';
import { schoolOfDevice } from '../devices.js';

export async function storeOperlog(trx: Trx, deviceId: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await sql`INSERT INTO push_operlog (school_id, device_id, line) SELECT ${schoolOfDevice(deviceId)}, ${deviceId}::uuid, l FROM unnest(${lines.map((l) => l.slice(0, 2000))}::text[]) AS l`.execute(trx);
}

export async function upsertTerminalUsers(trx: Trx, deviceId: string, users: ReadonlyArray<{ pin: string; name: string | null; privilege: string | null; card: string | null }>): Promise<void> {
  if (users.length === 0) return;
  // The last record of a PIN in the batch wins.
  const byPin = new Map(users.map((u) => [u.pin, u]));
  const rows = [...byPin.values()];
  await sql`
    INSERT INTO push_terminal_users (school_id, device_id, pin, name, privilege, card)
    SELECT ${schoolOfDevice(deviceId)}, ${deviceId}::uuid, p, n, r, c FROM unnest(${rows.map((u) => u.pin)}::text[], ${rows.map((u) => u.name)}::text[], ${rows.map((u) => u.privilege)}::text[], ${rows.map((u) => u.card)}::text[]) AS u(p, n, r, c)
    ON CONFLICT (device_id, pin, school_id) DO UPDATE SET name = EXCLUDED.name, privilege = EXCLUDED.privilege, card = EXCLUDED.card, updated_at = now()
  `.execute(trx);
}

/** A user the terminal holds now under this name (a DATA UPDATE USERINFO it carried out); its card and privilege as they were. */
export async function noteTerminalUser(trx: Trx, deviceId: string, pin: string, name: string | null): Promise<void> {
  await trx.insertInto('push_terminal_users').values({ school_id: schoolOfDevice(deviceId), device_id: deviceId, pin, name })
    .onConflict((oc) => oc.columns(['device_id', 'pin', 'school_id']).doUpdateSet({ name, updated_at: sql<Date>`now()` })).execute();
}

/** Users the terminal no longer holds (a DATA DELETE USERINFO it carried out). */
export async function removeTerminalUsers(trx: Trx, schoolId: number, deviceId: string, pins: readonly string[]): Promise<void> {
  if (pins.length === 0) return;
  await trx.deleteFrom('push_terminal_users').where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('pin', 'in', [...pins]).execute();
}

export async function countFingerprints(trx: Trx, deviceId: string, pins: readonly string[]): Promise<void> {
  if (pins.length === 0) return;
  await sql`
    INSERT INTO push_terminal_users (school_id, device_id, pin, fingerprints)
    SELECT ${schoolOfDevice(deviceId)}, ${deviceId}::uuid, p, count(*) FROM unnest(${[...pins]}::text[]) AS p GROUP BY p
    ON CONFLICT (device_id, pin, school_id) DO UPDATE SET fingerprints = push_terminal_users.fingerprints + EXCLUDED.fingerprints, updated_at = now()
  `.execute(trx);
}

/** The terminal's user list against the school's roster (active users): who is missing where, and names that differ. */
export async function rosterDifferences(db: DbOrTrx, schoolId: number, deviceId: string) {
  const rows = await sql<{ pin: string; terminal_name: string | null; user_id: number | null; roster_name: string | null; on_terminal: boolean; in_roster: boolean }>`
    WITH roster AS (SELECT u.id, u.badge, u.name FROM users u WHERE u.school_id = ${schoolId} AND u.deleted_at IS NULL),
    term AS (SELECT pin, name FROM push_terminal_users WHERE school_id = ${schoolId} AND device_id = ${deviceId}::uuid)
    SELECT coalesce(t.pin, r.badge) AS pin, t.name AS terminal_name, r.id AS user_id, r.name AS roster_name,
      t.pin IS NOT NULL AS on_terminal, r.id IS NOT NULL AS in_roster
    FROM term t FULL JOIN roster r ON r.badge = t.pin
    WHERE t.pin IS NULL OR r.id IS NULL OR t.name IS DISTINCT FROM r.name
    ORDER BY 1 LIMIT 5000
  `.execute(db);
  return rows.rows.map((r) => ({
    pin: r.pin, user_id: r.user_id === null ? null : Number(r.user_id), roster_name: r.roster_name, terminal_name: r.terminal_name,
    difference: !r.on_terminal ? 'missing_on_terminal' as const : !r.in_roster ? 'unknown_to_roster' as const : 'name_differs' as const,
  }));
}

/** For each PIN: what the terminal holds under it (null: not on the terminal) and whether the school's roster has it (active or deactivated). */
export async function terminalUsersToImport(db: DbOrTrx, deviceId: string, schoolId: number, pins: readonly string[]) {
  if (pins.length === 0) return [];
  const rows = await sql<{ pin: string; on_terminal: boolean; terminal_name: string | null; user_id: number | null; deleted: boolean | null }>`
    SELECT p.pin, t.pin IS NOT NULL AS on_terminal, t.name AS terminal_name, u.id AS user_id, u.deleted_at IS NOT NULL AS deleted
    FROM unnest(${[...pins]}::text[]) WITH ORDINALITY AS p(pin, n)
    LEFT JOIN push_terminal_users t ON t.school_id = ${schoolId} AND t.device_id = ${deviceId}::uuid AND t.pin = p.pin
    LEFT JOIN users u ON u.school_id = ${schoolId} AND u.badge = p.pin
    ORDER BY p.n
  `.execute(db);
  return rows.rows.map((r) => ({ ...r, user_id: r.user_id === null ? null : Number(r.user_id) }));
}

/** Enabled terminals whose school's users changed since their roster version, locked (SKIP LOCKED: workers share them). */
export async function terminalsBehindRoster(trx: Trx, horizon: number, limit: number) {
  const rows = await sql<{ serial_number: string; device_id: string; school_id: number; roster_version: string }>`
    SELECT t.serial_number, t.device_id, d.school_id, t.roster_version
    FROM push_terminals t JOIN devices d ON d.id = t.device_id
    WHERE d.disabled_at IS NULL AND t.roster_version < ${horizon}
      AND EXISTS (SELECT 1 FROM users u WHERE u.school_id = d.school_id AND u.roster_xid >= t.roster_version)
    ORDER BY t.serial_number
    LIMIT ${limit}
    FOR UPDATE OF t SKIP LOCKED
  `.execute(trx);
  return rows.rows.map((r) => ({ ...r, school_id: Number(r.school_id) }));
}

export async function setTerminalRosterVersion(trx: Trx, schoolId: number, serialNumber: string, version: number): Promise<void> {
  await trx.updateTable('push_terminals').set({ roster_version: version }).where('school_id', '=', schoolId).where('serial_number', '=', serialNumber).execute();
}

// The address a PUSH terminal is bound to, the claims of other addresses, and its RegistryCode
// (Security PUSH 3.x): what stands in for the secret the protocol does not have (docs/SECURITY.md, /iclock).
import { sql } from 'kysely';
import type { Db, DbOrTrx, Trx } from '../../database.js';
import { notifyTerminal } from './terminals.js';

/** Binds a terminal that has no bound address yet to this one (its first admitted call). False when another call bound it first. */
export async function bindAddress(db: DbOrTrx, schoolId: number, serialNumber: string, address: string): Promise<boolean> {
  const r = await db.updateTable('push_terminals').set({ bound_address: address, bound_seen_at: sql`now()` })
    .where('school_id', '=', schoolId).where('serial_number', '=', serialNumber).where('device_id', 'is not', null).where('bound_address', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return false;
  await notifyTerminal(db, { serialNumber });
  return true;
}

/**
 * A call for this terminal from an address it is not bound to, or without the token it carries
 * (`withoutToken`): held by the caller, remembered here as a claim. A claim while the bound
 * address kept calling after the claim began (or one without the token: the terminal itself
 * carries it) is a conflict. The device's `address_alert` says which, for the dashboard; a new
 * conflict makes every api process read the terminal again (its bound address is held too until
 * staff confirm one, unless they confirmed it already). Written at most every 10 s per address.
 */
export async function recordAddressClaim(db: Db, claim: { schoolId: number; serialNumber: string; address: string | null; withoutToken: boolean; windowSeconds: number }): Promise<{ conflict: boolean }> {
  const rows = await sql<{ device_id: string; conflict: boolean; was_conflict: boolean; new_claim: boolean }>`
    WITH old AS (
      SELECT serial_number, conflict_at FROM push_terminals
      WHERE school_id = ${claim.schoolId} AND serial_number = ${claim.serialNumber} AND device_id IS NOT NULL FOR UPDATE
    ), upd AS (
      UPDATE push_terminals t SET
        claimed_since = CASE WHEN t.claimed_address IS DISTINCT FROM ${claim.address} OR t.claimed_at < now() - make_interval(secs => ${claim.windowSeconds})
          THEN now() ELSE t.claimed_since END,
        claimed_address = ${claim.address}, claimed_at = now(),
        conflict_at = coalesce(t.conflict_at, CASE
          WHEN ${claim.withoutToken} THEN now()
          WHEN t.claimed_address IS NOT DISTINCT FROM ${claim.address} AND t.claimed_at >= now() - make_interval(secs => ${claim.windowSeconds})
            AND t.bound_seen_at > t.claimed_since THEN now() END)
      FROM old
      WHERE t.school_id = ${claim.schoolId} AND t.serial_number = old.serial_number
        AND (t.claimed_address IS DISTINCT FROM ${claim.address} OR t.claimed_at IS NULL OR t.claimed_at < now() - interval '10 seconds' OR (${claim.withoutToken} AND t.conflict_at IS NULL))
      RETURNING t.device_id, t.conflict_at IS NOT NULL AS conflict, old.conflict_at IS NOT NULL AS was_conflict, t.claimed_since = now() AS new_claim
    ), alert AS (
      UPDATE devices d SET address_alert = CASE WHEN upd.conflict THEN 'address_conflict' ELSE 'address_changed' END
      FROM upd WHERE d.school_id = ${claim.schoolId} AND d.id = upd.device_id AND d.address_alert IS DISTINCT FROM (CASE WHEN upd.conflict THEN 'address_conflict' ELSE 'address_changed' END)
    )
    SELECT device_id, conflict, was_conflict, new_claim FROM upd
  `.execute(db);
  const row = rows.rows[0];
  // A new claim or a new conflict: every api process reads the terminal again, so that its bound
  // address's next call sees it (markConflict) and, while no address is confirmed, is held too.
  if (row && ((row.conflict && !row.was_conflict) || row.new_claim)) await notifyTerminal(db, { serialNumber: claim.serialNumber });
  return { conflict: row?.conflict ?? false };
}

/**
 * The bound address called while another one's claim is recent (within `windowSeconds`): two
 * places at once. Flagged (address_conflict) and every api process told. True when flagged now or before.
 */
export async function markConflict(db: Db, schoolId: number, serialNumber: string, windowSeconds: number): Promise<boolean> {
  const rows = await sql<{ device_id: string }>`
    WITH upd AS (
      UPDATE push_terminals SET conflict_at = now()
      WHERE school_id = ${schoolId} AND serial_number = ${serialNumber} AND device_id IS NOT NULL AND conflict_at IS NULL
        AND claimed_at >= now() - make_interval(secs => ${windowSeconds})
      RETURNING device_id
    ), alert AS (
      UPDATE devices d SET address_alert = 'address_conflict' FROM upd WHERE d.school_id = ${schoolId} AND d.id = upd.device_id
    )
    SELECT device_id FROM upd
  `.execute(db);
  if (rows.rows.length === 0) return false;
  await notifyTerminal(db, { serialNumber });
  return true;
}

/**
 * Staff confirm where the terminal is (one click on the dashboard): the address it is bound to
 * (the claim was someone else: dismissed) or the one that claimed it (it moved: the binding
 * moves). Either way the binding is confirmed, the claim and conflict cleared, and the
 * confirmation kept with who made it. Undefined when `address` is neither (a stale click).
 */
export async function confirmAddress(trx: Trx, schoolId: number, deviceId: string, address: string, staffId: number): Promise<{ serial_number: string; previous: string | null } | undefined> {
  const t = await trx.selectFrom('push_terminals').select(['serial_number', 'bound_address', 'claimed_address', 'claimed_at'])
    .where('school_id', '=', schoolId).where('device_id', '=', deviceId).forUpdate().executeTakeFirst();
  if (!t || (address !== t.bound_address && address !== t.claimed_address)) return undefined;
  await trx.updateTable('push_terminals').set({
    bound_address: address, bound_confirmed: true,
    ...(address !== t.bound_address && { bound_seen_at: t.claimed_at }),
    claimed_address: null, claimed_since: null, claimed_at: null, conflict_at: null,
    // A reset terminal lost its RegistryCode and registers again without the token: staff vouching
    // for the address lets it; its token is required again once it sends it.
    registry_token_seen_at: null,
  }).where('school_id', '=', schoolId).where('device_id', '=', deviceId).execute();
  await trx.updateTable('devices').set({ address_alert: null, updated_at: sql`now()` }).where('school_id', '=', schoolId).where('id', '=', deviceId).execute();
  await trx.insertInto('push_address_confirmations').values({ school_id: schoolId, device_id: deviceId, address, previous_address: t.bound_address, confirmed_by: staffId }).execute();
  await notifyTerminal(trx, { serialNumber: t.serial_number, deviceId });
  return { serial_number: t.serial_number, previous: t.bound_address };
}

export async function addressConfirmations(db: DbOrTrx, schoolId: number, deviceId: string, limit = 20) {
  return db.selectFrom('push_address_confirmations as c').leftJoin('staff as s', 's.id', 'c.confirmed_by')
    .select(['c.address', 'c.previous_address', 'c.confirmed_at', 's.email as confirmed_by'])
    .where('c.school_id', '=', schoolId).where('c.device_id', '=', deviceId).orderBy('c.id', 'desc').limit(limit).execute();
}

/** The RegistryCode and SessionID of a Security PUSH 3.x terminal: drawn once (random), the same at every later registration. */
export async function issueRegistryCode(db: DbOrTrx, schoolId: number, serialNumber: string, fresh: { code: string; sessionId: string }): Promise<{ code: string; sessionId: string } | undefined> {
  const row = await db.updateTable('push_terminals')
    .set({ registry_code: sql`coalesce(registry_code, ${fresh.code})`, session_id: sql`coalesce(session_id, ${fresh.sessionId})` })
    .where('school_id', '=', schoolId).where('serial_number', '=', serialNumber).where('device_id', 'is not', null)
    .returning(['registry_code', 'session_id']).executeTakeFirst();
  if (!row?.registry_code || !row.session_id) return undefined;
  return { code: row.registry_code, sessionId: row.session_id };
}

/** The terminal sent its token: from now on every call of it must (a call without is someone else). */
export async function requireRegistryToken(db: DbOrTrx, schoolId: number, serialNumber: string): Promise<void> {
  const r = await db.updateTable('push_terminals').set({ registry_token_seen_at: sql`now()` })
    .where('school_id', '=', schoolId).where('serial_number', '=', serialNumber).where('registry_token_seen_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) await notifyTerminal(db, { serialNumber });
}

// PUSH (iclock) terminals (docs/protocol/push.md): enrolment (pending → registered device), what a terminal
// says about itself, its upload cursors, the ATTLOG session stored with its import job, its
// operation log and user list, and its command queue.
import { sql } from 'kysely';
import { PUSH_SESSION_CHANNEL } from '../../shared/protocol/push.js';
import type { Db, DbOrTrx, Trx } from '../database.js';
import type { AddressBinding, PushCommandSource, PushCommandStatus } from '../schema/index.js';

/** Queuing a command or changing a terminal NOTIFYs this channel; api processes drop what they cached (api/push/poll-cache.ts). */
export const PUSH_NOTIFY_CHANNEL = 'push_terminals';

/** At the commit of `trx`: every api process drops what it cached about this terminal. */
export async function notifyTerminal(trx: DbOrTrx, key: { deviceId?: string; serialNumber?: string }): Promise<void> {
  if (key.deviceId) await sql`SELECT pg_notify(${PUSH_NOTIFY_CHANNEL}, ${`d:${key.deviceId}`})`.execute(trx);
  if (key.serialNumber) await sql`SELECT pg_notify(${PUSH_NOTIFY_CHANNEL}, ${`s:${key.serialNumber}`})`.execute(trx);
}

/** Pending terminals kept at most: an SN flood cannot grow the table without bound. */
export const MAX_PENDING_TERMINALS = 1_000;

export interface TerminalLookup {
  serial_number: string;
  device_id: string | null;
  school_id: number | null;
  disabled: boolean;
  /** The device's own timezone, else its school's. */
  timezone: string;
  allowed_networks: string[] | null;
  attlog_stamp: number;
  operlog_stamp: number;
  attphoto_stamp: number;
  delay_seconds: number;
  /** How it is bound to the address it calls from ('off': not at all). */
  address_binding: AddressBinding;
  /** Null: bound at its next admitted call. */
  bound_address: string | null;
  bound_confirmed: boolean;
  /** The bound address kept calling while another one claimed the SN (until staff confirm one). */
  conflict: boolean;
  /** The last call of another address for it (held); null once staff confirmed an address. */
  claimed_at: Date | null;
  /** Security PUSH 3.x: what it was given at registration, and whether its calls must carry their token. */
  registry_code: string | null;
  session_id: string | null;
  registry_token_required: boolean;
}

/** One read: the terminal (registered or pending) and its device; undefined for an SN never seen. */
export async function findTerminal(db: DbOrTrx, serialNumber: string): Promise<TerminalLookup | undefined> {
  const row = await db.selectFrom('push_terminals as t')
    .leftJoin('devices as d', 'd.id', 't.device_id')
    .leftJoin('schools as s', 's.id', 'd.school_id')
    .select(['t.serial_number', 't.device_id', 'd.school_id', 'd.disabled_at', 'd.timezone', 's.timezone as school_timezone', 'd.allowed_networks',
      't.attlog_stamp', 't.operlog_stamp', 't.attphoto_stamp', 't.delay_seconds', 't.address_binding', 't.bound_address', 't.bound_confirmed', 't.conflict_at',
      't.registry_code', 't.session_id', 't.registry_token_seen_at', 't.claimed_at'])
    .where('t.serial_number', '=', serialNumber)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    serial_number: row.serial_number, device_id: row.device_id, school_id: row.school_id, disabled: row.disabled_at !== null,
    timezone: row.timezone ?? row.school_timezone ?? 'UTC', allowed_networks: row.allowed_networks,
    attlog_stamp: Number(row.attlog_stamp), operlog_stamp: Number(row.operlog_stamp), attphoto_stamp: Number(row.attphoto_stamp),
    delay_seconds: row.delay_seconds, address_binding: row.address_binding, bound_address: row.bound_address, bound_confirmed: row.bound_confirmed,
    conflict: row.conflict_at !== null, claimed_at: row.claimed_at, registry_code: row.registry_code, session_id: row.session_id, registry_token_required: row.registry_token_seen_at !== null,
  };
}

/** Pending terminals calling from one address kept at most: a flood from one address evicts its own oldest. */
export const MAX_PENDING_PER_ADDRESS = 20;
/** A pending terminal not heard from for this long is forgotten (it is pending again if it calls again). */
export const PENDING_EXPIRY_DAYS = 7;

/**
 * A terminal called: notes the address and push version, and the device's last_seen_at, at most
 * every 10 s per terminal. An unknown SN is recorded as pending, always (issue #33 §5): expired
 * pending terminals are dropped first, then, to make room, the least recently seen one of its
 * address when that address holds MAX_PENDING_PER_ADDRESS, else the least recently seen of all
 * when there are MAX_PENDING_TERMINALS. A flood of made-up SNs thus churns its own entries and
 * never keeps a real terminal's first contact out.
 */
export async function noteContact(db: Db, contact: { serialNumber: string; address: string | null; pushVersion: string | null }): Promise<void> {
  const known = await db.selectFrom('push_terminals').select('serial_number').where('serial_number', '=', contact.serialNumber).executeTakeFirst();
  if (!known) {
    await db.transaction().execute(async (trx) => {
      // One first contact at a time: the count and the eviction below stay true.
      await sql`SELECT pg_advisory_xact_lock(hashtext('push_pending_terminals'))`.execute(trx);
      await sql`DELETE FROM push_terminals WHERE device_id IS NULL AND last_seen_at < now() - make_interval(days => ${PENDING_EXPIRY_DAYS})`.execute(trx);
      await sql`
        DELETE FROM push_terminals WHERE serial_number IN (
          SELECT serial_number FROM push_terminals WHERE device_id IS NULL AND address IS NOT DISTINCT FROM ${contact.address}
          ORDER BY last_seen_at ASC NULLS FIRST OFFSET ${MAX_PENDING_PER_ADDRESS - 1}
        ) AND device_id IS NULL
      `.execute(trx);
      await sql`
        DELETE FROM push_terminals WHERE serial_number IN (
          SELECT serial_number FROM push_terminals WHERE device_id IS NULL
          ORDER BY last_seen_at DESC NULLS LAST OFFSET ${MAX_PENDING_TERMINALS - 1}
        ) AND device_id IS NULL
      `.execute(trx);
      await sql`
        INSERT INTO push_terminals (serial_number, last_seen_at, address, push_version)
        VALUES (${contact.serialNumber}, now(), ${contact.address}, ${contact.pushVersion})
        ON CONFLICT (serial_number) DO NOTHING
      `.execute(trx);
    });
    return;
  }
  await sql`
    WITH upd AS (
      UPDATE push_terminals SET last_seen_at = now(), address = coalesce(${contact.address}, address),
        push_version = coalesce(${contact.pushVersion}, push_version)
      WHERE serial_number = ${contact.serialNumber}
        AND (last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds' OR address IS DISTINCT FROM ${contact.address}
          OR (${contact.pushVersion}::text IS NOT NULL AND push_version IS DISTINCT FROM ${contact.pushVersion}))
      RETURNING device_id
    )
    UPDATE devices SET last_seen_at = now() FROM upd WHERE devices.id = upd.device_id
  `.execute(db);
}

/**
 * Many terminals' last contact at once (the getrequest path batches them). Two statements, each
 * locking rows of one table only, in serial-number order: an ATTLOG upload holds its device's
 * row (share) and its terminal's row (the cursor) at once, and one statement updating both
 * tables formed a deadlock with it (uploads answered 500 after PostgreSQL's deadlock timeout).
 * Only admitted calls are noted here: their time is also the bound address's last call.
 */
export async function noteContacts(db: Db, contacts: ReadonlyArray<{ serialNumber: string; address: string | null; at: Date }>): Promise<void> {
  if (contacts.length === 0) return;
  const sorted = [...contacts].sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : a.serialNumber > b.serialNumber ? 1 : 0));
  const sns = sorted.map((c) => c.serialNumber);
  const ats = sorted.map((c) => c.at.toISOString());
  await sql`
    UPDATE devices d SET last_seen_at = greatest(d.last_seen_at, c.at)
    FROM unnest(${sns}::text[], ${ats}::timestamptz[]) AS c(sn, at) JOIN push_terminals t ON t.serial_number = c.sn
    WHERE d.id = t.device_id
  `.execute(db);
  await sql`
    UPDATE push_terminals t SET last_seen_at = greatest(t.last_seen_at, c.at), address = coalesce(c.address, t.address),
      bound_seen_at = CASE WHEN t.device_id IS NOT NULL THEN greatest(t.bound_seen_at, c.at) ELSE t.bound_seen_at END
    FROM unnest(${sns}::text[], ${sorted.map((c) => c.address)}::text[], ${ats}::timestamptz[]) AS c(sn, address, at)
    WHERE t.serial_number = c.sn
  `.execute(db);
}

/** Keys a terminal's reported options hold at most: a registered one, a pending one (issue #33 §5). */
export const MAX_OPTION_KEYS = 256;
export const MAX_PENDING_OPTION_KEYS = 32;

/**
 * An options upload (or an INFO answer, or /iclock/registry): merged into what the terminal
 * reported, within MAX_OPTION_KEYS keys (MAX_PENDING_OPTION_KEYS while pending; parseOptions
 * bounds each key and value): past it, only the keys it already holds are updated. Nothing is
 * written when nothing changes. A pending terminal's row is thus a few KiB at most, however
 * often and whatever it posts.
 */
export async function recordOptions(db: DbOrTrx, serialNumber: string, options: Record<string, string>): Promise<void> {
  if (Object.keys(options).length === 0) return;
  const model = options['~DeviceName'] ?? options.DeviceName ?? null;
  // FirmVer: what Security PUSH 3.x firmware calls it in its registry.
  const firmware = options.FWVersion ?? options['~FWVersion'] ?? options.FirmVer ?? options['~FirmVer'] ?? null;
  const incoming = JSON.stringify(Object.fromEntries(Object.entries(options).slice(0, MAX_OPTION_KEYS)));
  const merged = sql<string>`(SELECT CASE
      WHEN (SELECT count(*) FROM jsonb_object_keys(coalesce(options, '{}'::jsonb) || ${incoming}::jsonb))
        <= CASE WHEN device_id IS NULL THEN ${MAX_PENDING_OPTION_KEYS}::int ELSE ${MAX_OPTION_KEYS}::int END
        THEN coalesce(options, '{}'::jsonb) || ${incoming}::jsonb
      ELSE coalesce(options, '{}'::jsonb) || coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(${incoming}::jsonb) WHERE options ? key), '{}'::jsonb)
    END)`;
  const row = await db.updateTable('push_terminals').set({ options: merged, model: model ?? sql<string>`model`, firmware: firmware ?? sql<string>`firmware` })
    .where('serial_number', '=', serialNumber)
    .where(sql<boolean>`(options IS DISTINCT FROM ${merged} OR model IS DISTINCT FROM coalesce(${model}::text, model) OR firmware IS DISTINCT FROM coalesce(${firmware}::text, firmware))`)
    .returning('device_id').executeTakeFirst();
  if (row?.device_id && firmware) await db.updateTable('devices').set({ firmware, updated_at: sql`now()` }).where('id', '=', row.device_id).execute();
}

/** The UTC offset (minutes) the terminal was just given as TimeZone=; the clock loop sends it again when it changes (channels/push/timezones.ts). */
export async function noteTimeZoneSent(db: DbOrTrx, serialNumber: string, minutes: number): Promise<void> {
  await db.updateTable('push_terminals').set({ timezone_offset_sent: minutes })
    .where('serial_number', '=', serialNumber).where(sql<boolean>`timezone_offset_sent IS DISTINCT FROM ${minutes}::int`).execute();
}

/**
 * Enabled terminals whose UTC offset now (their own timezone, else their school's) differs from
 * the one they were last given, locked SKIP LOCKED; never-told terminals get theirs at the handshake.
 */
export async function terminalsWithStaleTimeZone(trx: Trx, limit: number) {
  const rows = await sql<{ serial_number: string; device_id: string; timezone: string; timezone_offset_sent: number }>`
    SELECT t.serial_number, t.device_id, coalesce(d.timezone, s.timezone) AS timezone, t.timezone_offset_sent
    FROM push_terminals t JOIN devices d ON d.id = t.device_id JOIN schools s ON s.id = d.school_id
    WHERE d.disabled_at IS NULL AND t.timezone_offset_sent IS NOT NULL
      AND t.timezone_offset_sent <> round(extract(epoch FROM (now() AT TIME ZONE coalesce(d.timezone, s.timezone)) - (now() AT TIME ZONE 'UTC')) / 60)::int
    ORDER BY t.serial_number
    LIMIT ${limit}
    FOR UPDATE OF t SKIP LOCKED
  `.execute(trx);
  return rows.rows;
}

/** The terminal's cursor for a table moves forward only; a full resync sets it back (`resetStamps`). */
export async function raiseStamp(trx: DbOrTrx, serialNumber: string, table: 'ATTLOG' | 'OPERLOG' | 'ATTPHOTO', stamp: number): Promise<void> {
  const column = ({ ATTLOG: 'attlog_stamp', OPERLOG: 'operlog_stamp', ATTPHOTO: 'attphoto_stamp' } as const)[table];
  await trx.updateTable('push_terminals').set({ [column]: sql`greatest(${sql.ref(column)}, ${stamp}::bigint)` })
    .where('serial_number', '=', serialNumber).execute();
}

export async function resetStamps(trx: DbOrTrx, deviceId: string): Promise<void> {
  await trx.updateTable('push_terminals').set({ attlog_stamp: 0, operlog_stamp: 0, attphoto_stamp: 0 }).where('device_id', '=', deviceId).execute();
}

/** An earlier, not failed, session of this terminal with the very same bytes: a retry after a lost `OK`. */
export async function sameBatchSession(db: DbOrTrx, deviceId: string, sha256: string): Promise<string | undefined> {
  const row = await db.selectFrom('sync_sessions').select('id')
    .where('device_id', '=', deviceId).where('channel', '=', PUSH_SESSION_CHANNEL).where('archive_sha256', '=', sha256)
    .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '<>', 'failed')]))
    .limit(1).executeTakeFirst();
  return row?.id;
}

/**
 * An ATTLOG (or rtlog) upload in one statement, its own transaction: the device re-read under a share lock
 * (a disable committed before refuses the batch, one arriving later waits for this commit), the
 * session stored unless the very same bytes are already (a retry after a lost `OK`), the
 * terminal's cursor raised. The stored session is the import's queue entry: the worker looks
 * for pending PUSH sessions several times a second and its one import job takes them all
 * (channels/push/session.ts). No job is inserted and nothing NOTIFYed here: uploads contended on
 * the job row, and PostgreSQL serializes the commits of transactions that NOTIFY (a lock held
 * through the WAL flush), which at 167 uploads a second became the queue the uploads waited in.
 */
export async function storeAttlogBatch(db: DbOrTrx, batch: { sessionId: string; deviceId: string; serialNumber: string; archive: Buffer; sha256: string; stamp: number | null; table: 'ATTLOG' | 'rtlog' }): Promise<'stored' | 'duplicate' | 'disabled'> {
  const row = await sql<{ enabled: boolean; stored: boolean }>`
    WITH dev AS (
      SELECT id, school_id FROM devices WHERE id = ${batch.deviceId}::uuid AND disabled_at IS NULL FOR SHARE
    ), stored AS (
      INSERT INTO sync_sessions (id, device_id, channel, archive, archive_sha256, archive_bytes, push_table, school_id)
      SELECT ${batch.sessionId}::uuid, dev.id, ${PUSH_SESSION_CHANNEL}, ${batch.archive}, ${batch.sha256}, ${batch.archive.length}, ${batch.table}, dev.school_id FROM dev
      WHERE NOT EXISTS (
        SELECT 1 FROM sync_sessions WHERE device_id = dev.id AND channel = ${PUSH_SESSION_CHANNEL} AND archive_sha256 = ${batch.sha256}
          AND (outcome IS NULL OR outcome <> 'failed')
      )
      RETURNING id
    ), stamp AS (
      UPDATE push_terminals SET attlog_stamp = greatest(attlog_stamp, ${batch.stamp}::bigint)
      WHERE serial_number = ${batch.serialNumber} AND ${batch.stamp}::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM dev)
    )
    SELECT EXISTS (SELECT 1 FROM dev) AS enabled, EXISTS (SELECT 1 FROM stored) AS stored
  `.execute(db);
  const { enabled, stored } = row.rows[0];
  return !enabled ? 'disabled' : stored ? 'stored' : 'duplicate';
}

export interface PendingTerminal {
  serial_number: string;
  first_seen_at: Date;
  last_seen_at: Date | null;
  address: string | null;
  model: string | null;
  firmware: string | null;
  push_version: string | null;
}

export async function listPendingTerminals(db: DbOrTrx): Promise<PendingTerminal[]> {
  return db.selectFrom('push_terminals')
    .select(['serial_number', 'first_seen_at', 'last_seen_at', 'address', 'model', 'firmware', 'push_version'])
    .where('device_id', 'is', null).where(sql<boolean>`last_seen_at >= now() - make_interval(days => ${PENDING_EXPIRY_DAYS})`)
    .orderBy('last_seen_at', 'desc').limit(MAX_PENDING_TERMINALS).execute();
}

export async function terminalState(db: DbOrTrx, deviceId: string) {
  return db.selectFrom('push_terminals')
    .select(['serial_number', 'first_seen_at', 'last_seen_at', 'address', 'model', 'firmware', 'push_version', 'options', 'attlog_stamp', 'operlog_stamp', 'attphoto_stamp', 'delay_seconds', 'roster_version',
      'address_binding', 'bound_address', 'bound_confirmed', 'bound_seen_at', 'claimed_address', 'claimed_since', 'claimed_at', 'conflict_at', 'registry_token_seen_at'])
    .where('device_id', '=', deviceId).executeTakeFirst();
}

/**
 * Registers a terminal by SN (in advance, or approving a pending one): the device row and the
 * terminal row linked in one transaction. Undefined when the SN already belongs to a device.
 */
export async function registerTerminal(trx: Trx, input: {
  serialNumber: string; schoolId: number; name: string; timezone: string | null; allowedNetworks: string[] | null; delaySeconds: number | undefined; secretHash: string;
  addressBinding?: AddressBinding;
}): Promise<string | undefined> {
  const taken = await trx.selectFrom('push_terminals').select(['device_id', 'address', 'firmware', 'last_seen_at']).where('serial_number', '=', input.serialNumber).forUpdate().executeTakeFirst();
  if (taken?.device_id) return undefined;
  const device = await trx.insertInto('devices').values({
    school_id: input.schoolId, name: input.name, kind: 'terminal', protocol: 'push', serial_number: input.serialNumber,
    // What it reported while pending is its firmware from the start (issue 27 §5: it was lost on approval).
    firmware: taken?.firmware ?? null,
    // and its last call its last contact: it has just called, not "never" (issue 27 §6).
    last_seen_at: taken?.last_seen_at ?? null,
    timezone: input.timezone, allowed_networks: input.allowedNetworks, secret_hash: input.secretHash,
    // PUSH terminals poll every few seconds; a terminal silent for 5 minutes needs attention.
    sync_interval_seconds: 300,
  }).returning('id').executeTakeFirstOrThrow();
  // Approving a pending terminal binds it to the address staff saw it call from (confirmed by
  // that approval); one registered in advance is bound at its first call.
  const bound = taken?.address ? { bound_address: taken.address, bound_confirmed: true, bound_seen_at: sql<Date>`now()` } : {};
  const settings = {
    ...(input.delaySeconds !== undefined && { delay_seconds: input.delaySeconds }),
    ...(input.addressBinding !== undefined && { address_binding: input.addressBinding }),
  };
  await trx.insertInto('push_terminals').values({ serial_number: input.serialNumber, device_id: device.id, attlog_stamp: 0, operlog_stamp: 0, attphoto_stamp: 0, roster_version: 0, ...settings })
    .onConflict((oc) => oc.column('serial_number').doUpdateSet({
      device_id: device.id, ...settings, ...bound,
      // What it posted while pending was bounded for a stranger; it starts afresh as a known terminal.
      claimed_address: null, claimed_since: null, claimed_at: null, conflict_at: null, registry_code: null, session_id: null, registry_token_seen_at: null,
    }))
    .execute();
  return device.id;
}

// ---- the address a terminal is bound to, and its RegistryCode ---------------------------------

/** Binds a terminal that has no bound address yet to this one (its first admitted call). False when another call bound it first. */
export async function bindAddress(db: DbOrTrx, serialNumber: string, address: string): Promise<boolean> {
  const r = await db.updateTable('push_terminals').set({ bound_address: address, bound_seen_at: sql`now()` })
    .where('serial_number', '=', serialNumber).where('device_id', 'is not', null).where('bound_address', 'is', null).executeTakeFirst();
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
export async function recordAddressClaim(db: Db, claim: { serialNumber: string; address: string | null; withoutToken: boolean; windowSeconds: number }): Promise<{ conflict: boolean }> {
  const rows = await sql<{ device_id: string; conflict: boolean; was_conflict: boolean; new_claim: boolean }>`
    WITH old AS (
      SELECT serial_number, conflict_at FROM push_terminals WHERE serial_number = ${claim.serialNumber} AND device_id IS NOT NULL FOR UPDATE
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
      WHERE t.serial_number = old.serial_number
        AND (t.claimed_address IS DISTINCT FROM ${claim.address} OR t.claimed_at IS NULL OR t.claimed_at < now() - interval '10 seconds' OR (${claim.withoutToken} AND t.conflict_at IS NULL))
      RETURNING t.device_id, t.conflict_at IS NOT NULL AS conflict, old.conflict_at IS NOT NULL AS was_conflict, t.claimed_since = now() AS new_claim
    ), alert AS (
      UPDATE devices d SET address_alert = CASE WHEN upd.conflict THEN 'address_conflict' ELSE 'address_changed' END
      FROM upd WHERE d.id = upd.device_id AND d.address_alert IS DISTINCT FROM (CASE WHEN upd.conflict THEN 'address_conflict' ELSE 'address_changed' END)
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
export async function markConflict(db: Db, serialNumber: string, windowSeconds: number): Promise<boolean> {
  const rows = await sql<{ device_id: string }>`
    WITH upd AS (
      UPDATE push_terminals SET conflict_at = now()
      WHERE serial_number = ${serialNumber} AND device_id IS NOT NULL AND conflict_at IS NULL
        AND claimed_at >= now() - make_interval(secs => ${windowSeconds})
      RETURNING device_id
    ), alert AS (
      UPDATE devices d SET address_alert = 'address_conflict' FROM upd WHERE d.id = upd.device_id
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
export async function confirmAddress(trx: Trx, deviceId: string, address: string, staffId: number): Promise<{ serial_number: string; previous: string | null } | undefined> {
  const t = await trx.selectFrom('push_terminals').select(['serial_number', 'bound_address', 'claimed_address', 'claimed_at'])
    .where('device_id', '=', deviceId).forUpdate().executeTakeFirst();
  if (!t || (address !== t.bound_address && address !== t.claimed_address)) return undefined;
  await trx.updateTable('push_terminals').set({
    bound_address: address, bound_confirmed: true,
    ...(address !== t.bound_address && { bound_seen_at: t.claimed_at }),
    claimed_address: null, claimed_since: null, claimed_at: null, conflict_at: null,
    // A reset terminal lost its RegistryCode and registers again without the token: staff vouching
    // for the address lets it; its token is required again once it sends it.
    registry_token_seen_at: null,
  }).where('device_id', '=', deviceId).execute();
  await trx.updateTable('devices').set({ address_alert: null, updated_at: sql`now()` }).where('id', '=', deviceId).execute();
  await trx.insertInto('push_address_confirmations').values({ device_id: deviceId, address, previous_address: t.bound_address, confirmed_by: staffId }).execute();
  await notifyTerminal(trx, { serialNumber: t.serial_number, deviceId });
  return { serial_number: t.serial_number, previous: t.bound_address };
}

export async function addressConfirmations(db: DbOrTrx, deviceId: string, limit = 20) {
  return db.selectFrom('push_address_confirmations as c').leftJoin('staff as s', 's.id', 'c.confirmed_by')
    .select(['c.address', 'c.previous_address', 'c.confirmed_at', 's.email as confirmed_by'])
    .where('c.device_id', '=', deviceId).orderBy('c.id', 'desc').limit(limit).execute();
}

/** The RegistryCode and SessionID of a Security PUSH 3.x terminal: drawn once (random), the same at every later registration. */
export async function issueRegistryCode(db: DbOrTrx, serialNumber: string, fresh: { code: string; sessionId: string }): Promise<{ code: string; sessionId: string } | undefined> {
  const row = await db.updateTable('push_terminals')
    .set({ registry_code: sql`coalesce(registry_code, ${fresh.code})`, session_id: sql`coalesce(session_id, ${fresh.sessionId})` })
    .where('serial_number', '=', serialNumber).where('device_id', 'is not', null)
    .returning(['registry_code', 'session_id']).executeTakeFirst();
  if (!row?.registry_code || !row.session_id) return undefined;
  return { code: row.registry_code, sessionId: row.session_id };
}

/** The terminal sent its token: from now on every call of it must (a call without is someone else). */
export async function requireRegistryToken(db: DbOrTrx, serialNumber: string): Promise<void> {
  const r = await db.updateTable('push_terminals').set({ registry_token_seen_at: sql`now()` })
    .where('serial_number', '=', serialNumber).where('registry_token_seen_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) await notifyTerminal(db, { serialNumber });
}

/** Forgets a pending terminal (refused by staff); a terminal that calls again is pending again. */
export async function deletePendingTerminal(db: DbOrTrx, serialNumber: string): Promise<boolean> {
  const r = await db.deleteFrom('push_terminals').where('serial_number', '=', serialNumber).where('device_id', 'is', null).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** `movedSchool`: the terminal gets its new school's whole roster (roster_version back to 0). */
export async function updateTerminalSettings(trx: DbOrTrx, deviceId: string, patch: { delaySeconds?: number; movedSchool?: boolean; addressBinding?: AddressBinding }): Promise<void> {
  if (patch.delaySeconds === undefined && !patch.movedSchool && patch.addressBinding === undefined) return;
  await trx.updateTable('push_terminals').set({
    ...(patch.delaySeconds !== undefined && { delay_seconds: patch.delaySeconds }),
    ...(patch.movedSchool && { roster_version: 0 }),
    ...(patch.addressBinding !== undefined && { address_binding: patch.addressBinding }),
  }).where('device_id', '=', deviceId).execute();
}

// ---- tables the server does not import ------------------------------------------------------

/**
 * The body of an upload of a table the server does not import (docs/protocol/push.md §4 "any other table"):
 * kept with the terminal, once per (terminal, table, bytes) — a retry after a lost answer adds
 * nothing. It is what the terminal deletes once answered, so it is stored before the answer.
 */
export async function storeUpload(db: DbOrTrx, upload: { deviceId: string; table: string; body: Buffer; sha256: string }): Promise<void> {
  await db.insertInto('push_uploads').values({
    device_id: upload.deviceId, table_name: upload.table.slice(0, 64), body: upload.body, body_bytes: upload.body.length, body_sha256: upload.sha256,
  }).onConflict((oc) => oc.columns(['device_id', 'table_name', 'body_sha256']).doNothing()).execute();
}

/** A terminal's kept uploads, newest first, the first `maxBytes` of each body as text. */
export async function listUploads(db: DbOrTrx, deviceId: string, opts: { beforeId: number | null; limit: number; maxBytes: number }) {
  let q = db.selectFrom('push_uploads')
    .select(['id', 'table_name', 'body_bytes', 'received_at', sql<Buffer>`substring(body FROM 1 FOR ${opts.maxBytes})`.as('head')])
    .where('device_id', '=', deviceId).orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId !== null) q = q.where('id', '<', opts.beforeId);
  // Decoded here, not by PostgreSQL: a body is untrusted bytes, and a cut may split a character.
  return (await q.execute()).map(({ head, ...u }) => ({ ...u, id: Number(u.id), text: head.toString('utf8') }));
}

// ---- operation log and the terminal's users -------------------------------------------------

export async function storeOperlog(trx: Trx, deviceId: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await sql`INSERT INTO push_operlog (device_id, line) SELECT ${deviceId}::uuid, l FROM unnest(${lines.map((l) => l.slice(0, 2000))}::text[]) AS l`.execute(trx);
}

export async function upsertTerminalUsers(trx: Trx, deviceId: string, users: ReadonlyArray<{ pin: string; name: string | null; privilege: string | null; card: string | null }>): Promise<void> {
  if (users.length === 0) return;
  // The last record of a PIN in the batch wins.
  const byPin = new Map(users.map((u) => [u.pin, u]));
  const rows = [...byPin.values()];
  await sql`
    INSERT INTO push_terminal_users (device_id, pin, name, privilege, card)
    SELECT ${deviceId}::uuid, p, n, r, c FROM unnest(${rows.map((u) => u.pin)}::text[], ${rows.map((u) => u.name)}::text[], ${rows.map((u) => u.privilege)}::text[], ${rows.map((u) => u.card)}::text[]) AS u(p, n, r, c)
    ON CONFLICT (device_id, pin) DO UPDATE SET name = EXCLUDED.name, privilege = EXCLUDED.privilege, card = EXCLUDED.card, updated_at = now()
  `.execute(trx);
}

/** A user the terminal holds now under this name (a DATA UPDATE USERINFO it carried out); its card and privilege as they were. */
export async function noteTerminalUser(trx: Trx, deviceId: string, pin: string, name: string | null): Promise<void> {
  await trx.insertInto('push_terminal_users').values({ device_id: deviceId, pin, name })
    .onConflict((oc) => oc.columns(['device_id', 'pin']).doUpdateSet({ name, updated_at: sql<Date>`now()` })).execute();
}

/** Users the terminal no longer holds (a DATA DELETE USERINFO it carried out). */
export async function removeTerminalUsers(trx: Trx, deviceId: string, pins: readonly string[]): Promise<void> {
  if (pins.length === 0) return;
  await trx.deleteFrom('push_terminal_users').where('device_id', '=', deviceId).where('pin', 'in', [...pins]).execute();
}

export async function countFingerprints(trx: Trx, deviceId: string, pins: readonly string[]): Promise<void> {
  if (pins.length === 0) return;
  await sql`
    INSERT INTO push_terminal_users (device_id, pin, fingerprints)
    SELECT ${deviceId}::uuid, p, count(*) FROM unnest(${[...pins]}::text[]) AS p GROUP BY p
    ON CONFLICT (device_id, pin) DO UPDATE SET fingerprints = push_terminal_users.fingerprints + EXCLUDED.fingerprints, updated_at = now()
  `.execute(trx);
}

/** The terminal's user list against the school's roster (active users): who is missing where, and names that differ. */
export async function rosterDifferences(db: DbOrTrx, deviceId: string) {
  const rows = await sql<{ pin: string; terminal_name: string | null; user_id: number | null; roster_name: string | null; on_terminal: boolean; in_roster: boolean }>`
    WITH dev AS (SELECT school_id FROM devices WHERE id = ${deviceId}::uuid),
    roster AS (SELECT u.id, u.badge, u.name FROM users u, dev WHERE u.school_id = dev.school_id AND u.deleted_at IS NULL),
    term AS (SELECT pin, name FROM push_terminal_users WHERE device_id = ${deviceId}::uuid)
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
    LEFT JOIN push_terminal_users t ON t.device_id = ${deviceId}::uuid AND t.pin = p.pin
    LEFT JOIN users u ON u.school_id = ${schoolId} AND u.badge = p.pin
    ORDER BY p.n
  `.execute(db);
  return rows.rows.map((r) => ({ ...r, user_id: r.user_id === null ? null : Number(r.user_id) }));
}

// ---- commands ---------------------------------------------------------------------------------

export interface QueuedCommand {
  command: string;
  source: PushCommandSource;
  flagId?: number | null;
  createdBy?: number | null;
}

export async function queueCommands(trx: DbOrTrx, deviceId: string, commands: readonly QueuedCommand[]): Promise<number[]> {
  if (commands.length === 0) return [];
  const rows = await trx.insertInto('push_commands')
    .values(commands.map((c) => ({ device_id: deviceId, command: c.command, source: c.source, flag_id: c.flagId ?? null, created_by: c.createdBy ?? null })))
    .returning('id').execute();
  return rows.map((r) => Number(r.id));
}

/**
 * The commands to send on this poll, marked sent in the same statement: queued ones, and sent
 * ones whose answer is overdue (`resendAfterSeconds`) with sends left (`maxSends`). At most `limit`.
 */
export async function takeCommandsToSend(db: DbOrTrx, deviceId: string, opts: { resendAfterSeconds: number; maxSends: number; limit: number }): Promise<Array<{ id: number; command: string; flag_id: number | null }>> {
  const rows = await sql<{ id: string; command: string; flag_id: string | null }>`
    UPDATE push_commands c SET status = 'sent', sends = c.sends + 1, last_sent_at = now()
    FROM (
      SELECT id FROM push_commands
      WHERE device_id = ${deviceId}::uuid AND (status = 'queued'
        OR (status = 'sent' AND sends < ${opts.maxSends} AND last_sent_at < now() - make_interval(secs => ${opts.resendAfterSeconds})))
      ORDER BY id LIMIT ${opts.limit} FOR UPDATE SKIP LOCKED
    ) pick
    WHERE c.id = pick.id
    RETURNING c.id, c.command, c.flag_id
  `.execute(db);
  return rows.rows.map((r) => ({ id: Number(r.id), command: r.command, flag_id: r.flag_id === null ? null : Number(r.flag_id) })).sort((a, b) => a.id - b.id);
}

/** Any command queued or sent and not finished (the push_commands_open index answers it). */
export async function hasOpenCommands(db: DbOrTrx, deviceId: string): Promise<boolean> {
  const row = await db.selectFrom('push_commands').select('id').where('device_id', '=', deviceId).where('status', 'in', ['queued', 'sent']).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Whether the terminal has anything to send now (the getrequest cache asks this on a miss). */
export async function hasCommandsDue(db: DbOrTrx, deviceId: string, opts: { resendAfterSeconds: number; maxSends: number }): Promise<{ due: boolean; nextDueAt: Date | null }> {
  const row = await sql<{ due: boolean; next_due_at: Date | null }>`
    SELECT bool_or(status = 'queued' OR (sends < ${opts.maxSends} AND last_sent_at <= now() - make_interval(secs => ${opts.resendAfterSeconds}))) AS due,
      min(CASE WHEN status = 'sent' AND sends < ${opts.maxSends} THEN last_sent_at + make_interval(secs => ${opts.resendAfterSeconds}) END) AS next_due_at
    FROM push_commands WHERE device_id = ${deviceId}::uuid AND status IN ('queued', 'sent')
  `.execute(db);
  return { due: row.rows[0]?.due ?? false, nextDueAt: row.rows[0]?.next_due_at ?? null };
}

export interface FinishedCommand {
  id: number;
  flag_id: number | null;
  command: string;
  status: PushCommandStatus;
}

/** Records results for this terminal's own sent commands; ids of other terminals or unknown ids are ignored (and returned as such). */
export async function recordCommandResults(trx: Trx, deviceId: string, results: ReadonlyArray<{ id: number; returnCode: number | null; cmd: string | null; content: string | null }>): Promise<{ recorded: FinishedCommand[]; ignored: number[] }> {
  if (results.length === 0) return { recorded: [], ignored: [] };
  // A result without a Return code is no success (docs/protocol/push.md §5): failed, and said so.
  const rows = await sql<{ id: string; flag_id: string | null; command: string; status: PushCommandStatus }>`
    UPDATE push_commands c SET status = CASE WHEN r.code >= 0 THEN 'succeeded' ELSE 'failed' END, return_code = r.code, result_cmd = r.cmd,
      result_content = r.content, finished_at = now(),
      failure = CASE WHEN r.code IS NULL THEN 'terminal answered without a Return code' WHEN r.code < 0 THEN 'terminal answered ' || r.code END
    FROM unnest(${results.map((r) => r.id)}::bigint[], ${results.map((r) => r.returnCode)}::int[], ${results.map((r) => r.cmd)}::text[], ${results.map((r) => r.content)}::text[]) AS r(id, code, cmd, content)
    WHERE c.id = r.id AND c.device_id = ${deviceId}::uuid AND c.status IN ('sent', 'queued')
    RETURNING c.id, c.flag_id, c.command, c.status
  `.execute(trx);
  const recorded = rows.rows.map((r) => ({ id: Number(r.id), flag_id: r.flag_id === null ? null : Number(r.flag_id), command: r.command, status: r.status }));
  const done = new Set(recorded.map((r) => r.id));
  return { recorded, ignored: results.map((r) => r.id).filter((id) => !done.has(id)) };
}

/** Sent commands that used all their sends and whose last answer is overdue: failed (shown to staff). */
export async function failUnansweredCommands(db: DbOrTrx, deviceId: string, opts: { resendAfterSeconds: number; maxSends: number }): Promise<FinishedCommand[]> {
  const rows = await sql<{ id: string; flag_id: string | null; command: string; status: PushCommandStatus }>`
    UPDATE push_commands SET status = 'failed', finished_at = now(), failure = 'no answer after ' || sends || ' sends'
    WHERE device_id = ${deviceId}::uuid AND status = 'sent' AND sends >= ${opts.maxSends} AND last_sent_at < now() - make_interval(secs => ${opts.resendAfterSeconds})
    RETURNING id, flag_id, command, status
  `.execute(db);
  return rows.rows.map((r) => ({ id: Number(r.id), flag_id: r.flag_id === null ? null : Number(r.flag_id), command: r.command, status: r.status }));
}

/**
 * The deadline sweep's side (channels/push/deadlines.ts): sent commands of any terminal whose
 * answer is overdue even counting the sends left (the terminal stopped polling), one answer
 * period after a poll would have failed them: failed, locked SKIP LOCKED, at most `limit`.
 */
export async function failOverdueCommands(trx: Trx, opts: { resendAfterSeconds: number; maxSends: number; limit: number }): Promise<Array<FinishedCommand & { device_id: string }>> {
  const rows = await sql<{ id: string; device_id: string; flag_id: string | null; command: string; status: PushCommandStatus }>`
    UPDATE push_commands c SET status = 'failed', finished_at = now(), failure = 'no answer after ' || c.sends || ' sends'
    FROM (
      SELECT id FROM push_commands
      WHERE status = 'sent'
        AND last_sent_at < now() - make_interval(secs => ${opts.resendAfterSeconds}::float8 * (${opts.maxSends} - sends + 2))
      ORDER BY id LIMIT ${opts.limit} FOR UPDATE SKIP LOCKED
    ) overdue
    WHERE c.id = overdue.id
    RETURNING c.id, c.device_id, c.flag_id, c.command, c.status
  `.execute(trx);
  return rows.rows.map((r) => ({ id: Number(r.id), device_id: r.device_id, flag_id: r.flag_id === null ? null : Number(r.flag_id), command: r.command, status: r.status }));
}

export async function listCommands(db: DbOrTrx, deviceId: string, opts: { beforeId: number | null; limit: number }) {
  let q = db.selectFrom('push_commands').selectAll().where('device_id', '=', deviceId).orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId !== null) q = q.where('id', '<', opts.beforeId);
  return (await q.execute()).map((c) => ({ ...c, id: Number(c.id), flag_id: c.flag_id === null ? null : Number(c.flag_id) }));
}

export async function cancelCommand(db: DbOrTrx, deviceId: string, id: number): Promise<boolean> {
  const r = await db.updateTable('push_commands').set({ status: 'cancelled', finished_at: sql`now()` })
    .where('id', '=', id).where('device_id', '=', deviceId).where('status', '=', 'queued').executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// ---- roster and flags as commands -------------------------------------------------------------

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

export async function setTerminalRosterVersion(trx: Trx, serialNumber: string, version: number): Promise<void> {
  await trx.updateTable('push_terminals').set({ roster_version: version }).where('serial_number', '=', serialNumber).execute();
}

/** These flags, when they are set on PUSH terminals, with the timezone the terminal reads. */
export async function pushFlagsOf(trx: Trx, flagIds: readonly number[]) {
  return trx.selectFrom('device_flags as f').innerJoin('devices as d', 'd.id', 'f.device_id').innerJoin('schools as s', 's.id', 'd.school_id')
    .select(['f.id', 'f.device_id', 'f.name', 'f.params', 'd.school_id', 'd.timezone', 's.timezone as school_timezone'])
    .where('f.id', 'in', [...flagIds]).where('d.protocol', '=', 'push').execute();
}

/** A replaced flag's commands not sent yet. */
export async function cancelQueuedFlagCommands(trx: Trx, flagId: number): Promise<void> {
  await trx.updateTable('push_commands').set({ status: 'cancelled', finished_at: sql`now()`, failure: 'its flag was replaced' })
    .where('flag_id', '=', flagId).where('status', '=', 'queued').execute();
}

/** A flag with no PUSH meaning: applied at once, with a note saying so. */
export async function applyFlagWithoutCommands(trx: Trx, flagId: number, deviceId: string): Promise<void> {
  await sql`
    WITH done AS (UPDATE device_flags SET applied_at = now() WHERE id = ${flagId} AND applied_at IS NULL RETURNING id)
    INSERT INTO flag_events (flag_id, device_id, action, details)
    SELECT id, ${deviceId}::uuid, 'applied', jsonb_build_object('push', 'nothing to do on a PUSH terminal') FROM done
  `.execute(trx);
}

/** The first command of the flag failed: the flag closed as cancelled (failed: true), its other queued commands dropped. */
export async function failFlag(trx: Trx, deviceId: string, command: FinishedCommand & { flag_id: number }): Promise<void> {
  await sql`
    WITH closed AS (
      -- delivered_at cleared so the flag reads 'cancelled'; its 'delivered' event stays in the trail.
      UPDATE device_flags SET cancelled_at = now(), delivered_at = NULL WHERE id = ${command.flag_id} AND applied_at IS NULL AND cancelled_at IS NULL RETURNING id
    ), dropped AS (
      UPDATE push_commands SET status = 'cancelled', finished_at = now(), failure = 'its flag failed'
      WHERE flag_id = ${command.flag_id} AND status = 'queued' AND EXISTS (SELECT 1 FROM closed)
    )
    INSERT INTO flag_events (flag_id, device_id, action, details)
    SELECT id, ${deviceId}::uuid, 'cancelled', jsonb_build_object('failed', true, 'command_id', ${command.id}::bigint, 'command', ${command.command}::text) FROM closed
  `.execute(trx);
}

/** The flag applied once every one of its commands succeeded. */
export async function applyFlagIfDone(trx: Trx, deviceId: string, command: FinishedCommand & { flag_id: number }): Promise<void> {
  await sql`
    WITH done AS (
      UPDATE device_flags SET applied_at = now()
      WHERE id = ${command.flag_id} AND applied_at IS NULL AND cancelled_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM push_commands WHERE flag_id = ${command.flag_id} AND status <> 'succeeded')
      RETURNING id
    )
    INSERT INTO flag_events (flag_id, device_id, action, details)
    SELECT id, ${deviceId}::uuid, 'applied', jsonb_build_object('command_id', ${command.id}::bigint) FROM done
  `.execute(trx);
}

/** The first send of a flag's command delivers the flag (docs/protocol/v4.md §6 life cycle). */
export async function markFlagsDelivered(db: DbOrTrx, flagIds: readonly number[]): Promise<void> {
  if (flagIds.length === 0) return;
  await sql`
    WITH d AS (
      UPDATE device_flags SET delivered_at = now() WHERE id = ANY(${[...new Set(flagIds)]}::bigint[]) AND delivered_at IS NULL AND applied_at IS NULL AND cancelled_at IS NULL
      RETURNING id, device_id
    )
    INSERT INTO flag_events (flag_id, device_id, action, details) SELECT id, device_id, 'delivered', jsonb_build_object('push', true) FROM d
  `.execute(db);
}

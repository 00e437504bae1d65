// PUSH (iclock) terminals (docs/protocol/push.md): enrolment (pending → registered device), what a terminal
// says about itself (contact, options, the UTC offset it was given), its upload cursors, and the
// NOTIFY that tells every api process to drop what it cached about it.
// Two tables (docs/scaling-schema.md "PUSH terminals at stage 2"): push_serials, the directory of
// every serial number known (its school once registered; a pending terminal's details until
// then), shared; push_terminals, per school, the registered terminals, every statement on it
// naming its school.
import { sql } from 'kysely';
import type { Db, DbOrTrx, Trx } from '../../database.js';
import type { AddressBinding } from '../../schema/index.js';

/** Queuing a command or changing a terminal NOTIFYs this channel; api processes drop what they cached (api/context/poll-cache.ts). */
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

/** A terminal as its callers know it: its school once registered, null while pending. */
export interface TerminalKey { schoolId: number | null; serialNumber: string }

/** What a pending terminal is read as: no device, no school, the defaults a new terminal row has. */
function pendingLookup(serialNumber: string): TerminalLookup {
  return {
    serial_number: serialNumber, device_id: null, school_id: null, disabled: false, timezone: 'UTC', allowed_networks: null,
    attlog_stamp: 0, operlog_stamp: 0, attphoto_stamp: 0, delay_seconds: 10, address_binding: 'network', bound_address: null, bound_confirmed: false,
    conflict: false, claimed_at: null, registry_code: null, session_id: null, registry_token_required: false,
  };
}

/**
 * The terminal (registered or pending) and its device; undefined for an SN never seen. Two reads:
 * the directory gives its school, then its row in that school.
 */
export async function findTerminal(db: DbOrTrx, serialNumber: string): Promise<TerminalLookup | undefined> {
  const entry = await db.selectFrom('push_serials').select('school_id').where('serial_number', '=', serialNumber).executeTakeFirst();
  if (!entry) return undefined;
  if (entry.school_id === null) return pendingLookup(serialNumber);
  const schoolId = Number(entry.school_id);
  const row = await db.selectFrom('push_terminals as t')
    .innerJoin('devices as d', (j) => j.onRef('d.school_id', '=', 't.school_id').onRef('d.id', '=', 't.device_id'))
    .innerJoin('schools as s', 's.id', 'd.school_id')
    .select(['t.serial_number', 't.device_id', 'd.school_id', 'd.disabled_at', 'd.timezone', 's.timezone as school_timezone', 'd.allowed_networks',
      't.attlog_stamp', 't.operlog_stamp', 't.attphoto_stamp', 't.delay_seconds', 't.address_binding', 't.bound_address', 't.bound_confirmed', 't.conflict_at',
      't.registry_code', 't.session_id', 't.registry_token_seen_at', 't.claimed_at'])
    .where('t.school_id', '=', schoolId).where('t.serial_number', '=', serialNumber)
    .executeTakeFirst();
  // Moved between the two reads: read again by the caller's next call.
  if (!row) return undefined;
  return {
    serial_number: row.serial_number, device_id: row.device_id, school_id: Number(row.school_id), disabled: row.disabled_at !== null,
    timezone: row.timezone ?? row.school_timezone, allowed_networks: row.allowed_networks,
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
export async function noteContact(db: Db, contact: { schoolId: number | null; serialNumber: string; address: string | null; pushVersion: string | null }): Promise<void> {
  if (contact.schoolId !== null) {
    // A registered terminal (admitted): its row and its device's, in its school.
    await sql`
      WITH upd AS (
        UPDATE push_terminals SET last_seen_at = now(), address = coalesce(${contact.address}, address),
          push_version = coalesce(${contact.pushVersion}, push_version)
        WHERE school_id = ${contact.schoolId} AND serial_number = ${contact.serialNumber}
          AND (last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds' OR address IS DISTINCT FROM ${contact.address}
            OR (${contact.pushVersion}::text IS NOT NULL AND push_version IS DISTINCT FROM ${contact.pushVersion}))
        RETURNING device_id
      )
      UPDATE devices SET last_seen_at = now() FROM upd WHERE devices.school_id = ${contact.schoolId} AND devices.id = upd.device_id
    `.execute(db);
    return;
  }
  const known = await db.selectFrom('push_serials').select('serial_number').where('serial_number', '=', contact.serialNumber).executeTakeFirst();
  if (!known) {
    await db.transaction().execute(async (trx) => {
      // One first contact at a time: the count and the eviction below stay true.
      await sql`SELECT pg_advisory_xact_lock(hashtext('push_pending_terminals'))`.execute(trx);
      await sql`DELETE FROM push_serials WHERE school_id IS NULL AND last_seen_at < now() - make_interval(days => ${PENDING_EXPIRY_DAYS})`.execute(trx);
      await sql`
        DELETE FROM push_serials WHERE serial_number IN (
          SELECT serial_number FROM push_serials WHERE school_id IS NULL AND address IS NOT DISTINCT FROM ${contact.address}
          ORDER BY last_seen_at ASC NULLS FIRST OFFSET ${MAX_PENDING_PER_ADDRESS - 1}
        ) AND school_id IS NULL
      `.execute(trx);
      await sql`
        DELETE FROM push_serials WHERE serial_number IN (
          SELECT serial_number FROM push_serials WHERE school_id IS NULL
          ORDER BY last_seen_at DESC NULLS LAST OFFSET ${MAX_PENDING_TERMINALS - 1}
        ) AND school_id IS NULL
      `.execute(trx);
      await sql`
        INSERT INTO push_serials (serial_number, last_seen_at, address, push_version)
        VALUES (${contact.serialNumber}, now(), ${contact.address}, ${contact.pushVersion})
        ON CONFLICT (serial_number) DO NOTHING
      `.execute(trx);
    });
    return;
  }
  // A pending terminal (no school, no device yet): in the directory.
  await sql`
    UPDATE push_serials SET last_seen_at = now(), address = coalesce(${contact.address}, address),
      push_version = coalesce(${contact.pushVersion}, push_version)
    WHERE serial_number = ${contact.serialNumber} AND school_id IS NULL
      AND (last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds' OR address IS DISTINCT FROM ${contact.address}
        OR (${contact.pushVersion}::text IS NOT NULL AND push_version IS DISTINCT FROM ${contact.pushVersion}))
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
export async function recordOptions(db: DbOrTrx, terminal: TerminalKey, options: Record<string, string>): Promise<void> {
  if (Object.keys(options).length === 0) return;
  const model = options['~DeviceName'] ?? options.DeviceName ?? null;
  // FirmVer: what Security PUSH 3.x firmware calls it in its registry.
  const firmware = options.FWVersion ?? options['~FWVersion'] ?? options.FirmVer ?? options['~FirmVer'] ?? null;
  const incoming = JSON.stringify(Object.fromEntries(Object.entries(options).slice(0, MAX_OPTION_KEYS)));
  const limit = terminal.schoolId === null ? MAX_PENDING_OPTION_KEYS : MAX_OPTION_KEYS;
  const merged = sql<string>`(SELECT CASE
      WHEN (SELECT count(*) FROM jsonb_object_keys(coalesce(options, '{}'::jsonb) || ${incoming}::jsonb)) <= ${limit}::int
        THEN coalesce(options, '{}'::jsonb) || ${incoming}::jsonb
      ELSE coalesce(options, '{}'::jsonb) || coalesce((SELECT jsonb_object_agg(key, value) FROM jsonb_each(${incoming}::jsonb) WHERE options ? key), '{}'::jsonb)
    END)`;
  const values = { options: merged, model: model ?? sql<string>`model`, firmware: firmware ?? sql<string>`firmware` };
  const changed = sql<boolean>`(options IS DISTINCT FROM ${merged} OR model IS DISTINCT FROM coalesce(${model}::text, model) OR firmware IS DISTINCT FROM coalesce(${firmware}::text, firmware))`;
  if (terminal.schoolId === null) {
    // Pending: in the directory (approved meanwhile: nothing written, it reports again).
    await db.updateTable('push_serials').set(values).where('serial_number', '=', terminal.serialNumber).where('school_id', 'is', null).where(changed).execute();
    return;
  }
  const row = await db.updateTable('push_terminals').set(values)
    .where('school_id', '=', terminal.schoolId).where('serial_number', '=', terminal.serialNumber).where(changed)
    .returning('device_id').executeTakeFirst();
  if (row && firmware) {
    await db.updateTable('devices').set({ firmware, updated_at: sql`now()` }).where('school_id', '=', terminal.schoolId).where('id', '=', row.device_id).execute();
  }
}

/** The UTC offset (minutes) the terminal was just given as TimeZone=; the clock loop sends it again when it changes (channels/push/timezones.ts). */
export async function noteTimeZoneSent(db: DbOrTrx, schoolId: number, serialNumber: string, minutes: number): Promise<void> {
  await db.updateTable('push_terminals').set({ timezone_offset_sent: minutes })
    .where('school_id', '=', schoolId).where('serial_number', '=', serialNumber).where(sql<boolean>`timezone_offset_sent IS DISTINCT FROM ${minutes}::int`).execute();
}

/**
 * Enabled terminals whose UTC offset now (their own timezone, else their school's) differs from
 * the one they were last given, locked SKIP LOCKED; never-told terminals get theirs at the handshake.
 */
export async function terminalsWithStaleTimeZone(trx: Trx, limit: number) {
  const rows = await sql<{ serial_number: string; device_id: string; school_id: string; timezone: string; timezone_offset_sent: number }>`
    SELECT t.serial_number, t.device_id, d.school_id, coalesce(d.timezone, s.timezone) AS timezone, t.timezone_offset_sent
    FROM push_terminals t JOIN devices d ON d.id = t.device_id JOIN schools s ON s.id = d.school_id
    WHERE d.disabled_at IS NULL AND t.timezone_offset_sent IS NOT NULL
      AND t.timezone_offset_sent <> round(extract(epoch FROM (now() AT TIME ZONE coalesce(d.timezone, s.timezone)) - (now() AT TIME ZONE 'UTC')) / 60)::int
    ORDER BY t.serial_number
    LIMIT ${limit}
    FOR UPDATE OF t SKIP LOCKED
  `.execute(trx);
  return rows.rows.map((r) => ({ ...r, school_id: Number(r.school_id) }));
}

/** The terminal's cursor for a table moves forward only; a full resync sets it back (`resetStamps`). */
export async function raiseStamp(trx: DbOrTrx, schoolId: number, serialNumber: string, table: 'ATTLOG' | 'OPERLOG' | 'ATTPHOTO', stamp: number): Promise<void> {
  const column = ({ ATTLOG: 'attlog_stamp', OPERLOG: 'operlog_stamp', ATTPHOTO: 'attphoto_stamp' } as const)[table];
  await trx.updateTable('push_terminals').set({ [column]: sql`greatest(${sql.ref(column)}, ${stamp}::bigint)` })
    .where('school_id', '=', schoolId).where('serial_number', '=', serialNumber).execute();
}

export async function resetStamps(trx: DbOrTrx, schoolId: number, deviceId: string): Promise<void> {
  await trx.updateTable('push_terminals').set({ attlog_stamp: 0, operlog_stamp: 0, attphoto_stamp: 0 }).where('school_id', '=', schoolId).where('device_id', '=', deviceId).execute();
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
  return db.selectFrom('push_serials')
    .select(['serial_number', 'first_seen_at', 'last_seen_at', 'address', 'model', 'firmware', 'push_version'])
    .where('school_id', 'is', null).where(sql<boolean>`last_seen_at >= now() - make_interval(days => ${PENDING_EXPIRY_DAYS})`)
    .orderBy('last_seen_at', 'desc').limit(MAX_PENDING_TERMINALS).execute();
}

export async function terminalState(db: DbOrTrx, schoolId: number, deviceId: string) {
  return db.selectFrom('push_terminals')
    .select(['serial_number', 'first_seen_at', 'last_seen_at', 'address', 'model', 'firmware', 'push_version', 'options', 'attlog_stamp', 'operlog_stamp', 'attphoto_stamp', 'delay_seconds', 'roster_version',
      'address_binding', 'bound_address', 'bound_confirmed', 'bound_seen_at', 'claimed_address', 'claimed_since', 'claimed_at', 'conflict_at', 'registry_token_seen_at'])
    .where('school_id', '=', schoolId).where('device_id', '=', deviceId).executeTakeFirst();
}

/**
 * Registers a terminal by SN (in advance, or approving a pending one): the device row and the
 * terminal row linked in one transaction. Undefined when the SN already belongs to a device.
 */
export async function registerTerminal(trx: Trx, input: {
  serialNumber: string; schoolId: number; name: string; timezone: string | null; allowedNetworks: string[] | null; delaySeconds: number | undefined; secretHash: string;
  addressBinding?: AddressBinding;
}): Promise<string | undefined> {
  // The directory first: its row, locked or claimed here, decides between two registrations of one SN.
  const taken = await trx.selectFrom('push_serials')
    .select(['school_id', 'first_seen_at', 'last_seen_at', 'address', 'model', 'firmware', 'push_version', 'options'])
    .where('serial_number', '=', input.serialNumber).forUpdate().executeTakeFirst();
  if (taken && taken.school_id !== null) return undefined;
  // What it said while pending goes to its terminal row; the directory keeps its school.
  const claimed = await trx.insertInto('push_serials').values({ serial_number: input.serialNumber, school_id: input.schoolId })
    .onConflict((oc) => oc.column('serial_number').doUpdateSet({
      school_id: input.schoolId, last_seen_at: null, address: null, model: null, firmware: null, push_version: null, options: null,
    }).where('push_serials.school_id', 'is', null))
    .returning('serial_number').executeTakeFirst();
  if (!claimed) return undefined;
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
  const reported = taken ? {
    first_seen_at: taken.first_seen_at, last_seen_at: taken.last_seen_at, address: taken.address, model: taken.model, firmware: taken.firmware,
    push_version: taken.push_version, options: taken.options === null ? null : JSON.stringify(taken.options),
  } : {};
  await trx.insertInto('push_terminals').values({
    serial_number: input.serialNumber, school_id: input.schoolId, device_id: device.id, attlog_stamp: 0, operlog_stamp: 0, attphoto_stamp: 0, roster_version: 0,
    ...reported, ...bound,
    ...(input.delaySeconds !== undefined && { delay_seconds: input.delaySeconds }),
    ...(input.addressBinding !== undefined && { address_binding: input.addressBinding }),
  }).execute();
  return device.id;
}

/** Forgets a pending terminal (refused by staff); a terminal that calls again is pending again. */
export async function deletePendingTerminal(db: DbOrTrx, serialNumber: string): Promise<boolean> {
  const r = await db.deleteFrom('push_serials').where('serial_number', '=', serialNumber).where('school_id', 'is', null).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * The terminal moved to another school: the directory says so (its terminal row moved with the
 * device, ON UPDATE CASCADE), in the same transaction.
 */
export async function moveSerial(trx: DbOrTrx, serialNumber: string, schoolId: number): Promise<void> {
  await trx.updateTable('push_serials').set({ school_id: schoolId }).where('serial_number', '=', serialNumber).where('school_id', 'is not', null).execute();
}

/** `movedSchool`: the terminal gets its new school's whole roster (roster_version back to 0). */
export async function updateTerminalSettings(trx: DbOrTrx, schoolId: number, deviceId: string, patch: { delaySeconds?: number; movedSchool?: boolean; addressBinding?: AddressBinding }): Promise<void> {
  if (patch.delaySeconds === undefined && !patch.movedSchool && patch.addressBinding === undefined) return;
  await trx.updateTable('push_terminals').set({
    ...(patch.delaySeconds !== undefined && { delay_seconds: patch.delaySeconds }),
    ...(patch.movedSchool && { roster_version: 0 }),
    ...(patch.addressBinding !== undefined && { address_binding: patch.addressBinding }),
  }).where('school_id', '=', schoolId).where('device_id', '=', deviceId).execute();
}

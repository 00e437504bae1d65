// A schema ready to shard by school (issue 32 §5, docs/scaling-schema.md): every per-school
// table carries school_id in its primary key and in every unique key, and every foreign key
// between per-school tables includes it, as Citus's multi-tenant rules ask of tables
// distributed by school_id. school_id goes LAST in each key: the lookups that exist (by id, by
// device and file…) keep using the same index, only 8 bytes wider; an equality on school_id
// narrows them further where the caller knows the school.
//
// The tables that lacked the column get it, filled from the device (or the message, the fever
// event) they belong to; from now on their writers fill it. sync_sessions.school_id, null for
// v4 sessions until now, is always the device's school at upload.
//
// A PUSH terminal can move to another school (PATCH /api/push/terminals/:id): its live state
// (channel states, high-water marks, flags and their events, queued commands, the users it
// holds, its directory row) moves with it through ON UPDATE CASCADE; history (sessions,
// uploads, operation log, photos, marks, held punches, messages and deliveries, address
// confirmations) stays in the school it happened in, so those tables no longer have a foreign
// key on the device, like attendances already (20261204_100000: devices are never deleted).
// Keys on sessions from the device's live state (device_flags.delivered_in) go for the same
// reason: sessions are never deleted, so their ON DELETE SET NULL never fired.
//
// Rewrites keys: not additive (the previous version's ON CONFLICT targets no longer match).
import { type Kysely, sql } from 'kysely';

/** Tables that get school_id, and where its value comes from (`t` is the table). */
const ADDED: Array<{ table: string; from: string; nullable?: boolean }> = [
  { table: 'sync_states', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'high_water_marks', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'device_flags', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'flag_events', from: 'FROM device_flags d WHERE d.id = t.flag_id' },
  { table: 'message_deliveries', from: 'FROM messages d WHERE d.id = t.message_id' },
  { table: 'alert_deliveries', from: 'FROM fever_events d WHERE d.id = t.fever_event_id' },
  { table: 'device_photos', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'push_terminals', from: 'FROM devices d WHERE d.id = t.device_id', nullable: true },
  { table: 'push_commands', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'push_terminal_users', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'push_operlog', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'push_uploads', from: 'FROM devices d WHERE d.id = t.device_id' },
  { table: 'push_address_confirmations', from: 'FROM devices d WHERE d.id = t.device_id' },
];

/** Primary and unique constraints: [table, constraint, before, after]. */
const KEYS: Array<[string, string, string, string]> = [
  ['users', 'users_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['devices', 'devices_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['devices', 'devices_serial_number_key', 'UNIQUE (serial_number)', 'UNIQUE (serial_number, school_id)'],
  ['sync_sessions', 'sync_sessions_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['sync_states', 'sync_states_pkey', 'PRIMARY KEY (device_id, channel)', 'PRIMARY KEY (device_id, channel, school_id)'],
  ['high_water_marks', 'high_water_marks_pkey', 'PRIMARY KEY (device_id, file)', 'PRIMARY KEY (device_id, file, school_id)'],
  ['user_days', 'user_days_pkey', 'PRIMARY KEY (user_id, date)', 'PRIMARY KEY (user_id, date, school_id)'],
  ['marks', 'marks_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['marks', 'marks_device_id_record_id_key', 'UNIQUE (device_id, record_id)', 'UNIQUE (device_id, record_id, school_id)'],
  ['held_punches', 'held_punches_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['held_punches', 'held_punches_device_id_pin_local_time_key', 'UNIQUE (device_id, pin, local_time)', 'UNIQUE (device_id, pin, local_time, school_id)'],
  ['fever_events', 'fever_events_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['alert_deliveries', 'alert_deliveries_pkey', 'PRIMARY KEY (fever_event_id, device_id)', 'PRIMARY KEY (fever_event_id, device_id, school_id)'],
  ['messages', 'messages_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['message_deliveries', 'message_deliveries_pkey', 'PRIMARY KEY (message_id, device_id)', 'PRIMARY KEY (message_id, device_id, school_id)'],
  ['device_messages', 'device_messages_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['device_flags', 'device_flags_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['flag_events', 'flag_events_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['figure_rebuilds', 'figure_rebuilds_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['device_photos', 'device_photos_pkey', 'PRIMARY KEY (device_id, name)', 'PRIMARY KEY (device_id, name, school_id)'],
  ['erasures', 'erasures_pkey', 'PRIMARY KEY (user_id)', 'PRIMARY KEY (user_id, school_id)'],
  ['push_terminals', 'push_terminals_device_id_key', 'UNIQUE (device_id)', 'UNIQUE (device_id, school_id)'],
  ['push_commands', 'push_commands_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['push_terminal_users', 'push_terminal_users_pkey', 'PRIMARY KEY (device_id, pin)', 'PRIMARY KEY (device_id, pin, school_id)'],
  ['push_operlog', 'push_operlog_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['push_uploads', 'push_uploads_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
  ['push_uploads', 'push_uploads_device_id_table_name_body_sha256_key', 'UNIQUE (device_id, table_name, body_sha256)', 'UNIQUE (device_id, table_name, body_sha256, school_id)'],
  ['push_address_confirmations', 'push_address_confirmations_pkey', 'PRIMARY KEY (id)', 'PRIMARY KEY (id, school_id)'],
];

/** Unique indexes that are not constraints: [index, before, after]. */
const UNIQUE_INDEXES: Array<[string, string, string]> = [
  ['device_flags_one_pending',
    'ON device_flags (device_id, name) WHERE delivered_in IS NULL AND cancelled_at IS NULL AND applied_at IS NULL',
    'ON device_flags (device_id, name, school_id) WHERE delivered_in IS NULL AND cancelled_at IS NULL AND applied_at IS NULL'],
  ['device_messages_device_record', 'ON device_messages (device_id, record_id)', 'ON device_messages (device_id, record_id, school_id)'],
  ['held_punches_record', 'ON held_punches (device_id, record_id) WHERE record_id IS NOT NULL', 'ON held_punches (device_id, record_id, school_id) WHERE record_id IS NOT NULL'],
];

const DEVICE = 'REFERENCES devices (school_id, id) ON DELETE CASCADE ON UPDATE CASCADE';

/** Foreign keys: [table, constraint, before (null: none), after (null: none)]. */
const FOREIGN_KEYS: Array<[string, string, string | null, string | null]> = [
  ['marks', 'marks_user_id_fkey', 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE', 'FOREIGN KEY (school_id, user_id) REFERENCES users (school_id, id) ON DELETE CASCADE'],
  ['erasures', 'erasures_user_id_fkey', 'FOREIGN KEY (user_id) REFERENCES users(id)', 'FOREIGN KEY (school_id, user_id) REFERENCES users (school_id, id)'],
  // The device's live state moves with it.
  ['sync_states', 'sync_states_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', `FOREIGN KEY (school_id, device_id) ${DEVICE}`],
  ['high_water_marks', 'high_water_marks_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', `FOREIGN KEY (school_id, device_id) ${DEVICE}`],
  ['device_flags', 'device_flags_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', `FOREIGN KEY (school_id, device_id) ${DEVICE}`],
  ['push_terminals', 'push_terminals_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', `FOREIGN KEY (school_id, device_id) ${DEVICE}`],
  ['push_commands', 'push_commands_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', `FOREIGN KEY (school_id, device_id) ${DEVICE}`],
  ['push_terminal_users', 'push_terminal_users_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', `FOREIGN KEY (school_id, device_id) ${DEVICE}`],
  ['flag_events', 'flag_events_flag_id_fkey', 'FOREIGN KEY (flag_id) REFERENCES device_flags(id) ON DELETE CASCADE',
    'FOREIGN KEY (school_id, flag_id) REFERENCES device_flags (school_id, id) ON DELETE CASCADE ON UPDATE CASCADE'],
  ['push_commands', 'push_commands_flag_id_fkey', 'FOREIGN KEY (flag_id) REFERENCES device_flags(id) ON DELETE SET NULL',
    'FOREIGN KEY (school_id, flag_id) REFERENCES device_flags (school_id, id) ON DELETE SET NULL (flag_id) ON UPDATE CASCADE'],
  // History stays in its school: no key on the device.
  ['sync_sessions', 'sync_sessions_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['flag_events', 'flag_events_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['messages', 'messages_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['message_deliveries', 'message_deliveries_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['alert_deliveries', 'alert_deliveries_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['device_photos', 'device_photos_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['push_operlog', 'push_operlog_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['push_uploads', 'push_uploads_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['push_address_confirmations', 'push_address_confirmations_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['held_punches', 'held_punches_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE CASCADE', null],
  ['marks', 'marks_device_id_fkey', 'FOREIGN KEY (device_id) REFERENCES devices(id) ON DELETE RESTRICT', null],
  // Links within a school's history.
  ['message_deliveries', 'message_deliveries_message_id_fkey', 'FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE',
    'FOREIGN KEY (school_id, message_id) REFERENCES messages (school_id, id) ON DELETE CASCADE'],
  ['alert_deliveries', 'alert_deliveries_fever_event_id_fkey', 'FOREIGN KEY (fever_event_id) REFERENCES fever_events(id) ON DELETE CASCADE',
    'FOREIGN KEY (school_id, fever_event_id) REFERENCES fever_events (school_id, id) ON DELETE CASCADE'],
  ['sync_states', 'sync_states_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL',
    'FOREIGN KEY (school_id, session_id) REFERENCES sync_sessions (school_id, id) ON DELETE SET NULL (session_id)'],
  ['message_deliveries', 'message_deliveries_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL',
    'FOREIGN KEY (school_id, session_id) REFERENCES sync_sessions (school_id, id) ON DELETE SET NULL (session_id)'],
  ['alert_deliveries', 'alert_deliveries_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL',
    'FOREIGN KEY (school_id, session_id) REFERENCES sync_sessions (school_id, id) ON DELETE SET NULL (session_id)'],
  ['device_messages', 'device_messages_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL',
    'FOREIGN KEY (school_id, session_id) REFERENCES sync_sessions (school_id, id) ON DELETE SET NULL (session_id)'],
  ['device_photos', 'device_photos_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL',
    'FOREIGN KEY (school_id, session_id) REFERENCES sync_sessions (school_id, id) ON DELETE SET NULL (session_id)'],
  ['device_flags', 'device_flags_delivered_in_fkey', 'FOREIGN KEY (delivered_in) REFERENCES sync_sessions(id) ON DELETE SET NULL', null],
  // rejections and readings become partitioned tables on branch `partitions` (20261208_200…),
  // which gives them their keys on sync_sessions (school_id, id); their single-column keys
  // have to go for sync_sessions' primary key to change.
  ['rejections', 'rejections_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE CASCADE', null],
  ['readings', 'readings_session_id_fkey', 'FOREIGN KEY (session_id) REFERENCES sync_sessions(id) ON DELETE SET NULL', null],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [table, name, before] of FOREIGN_KEYS) {
    if (before) await sql.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`).execute(db);
  }
  await sql`UPDATE sync_sessions t SET school_id = d.school_id FROM devices d WHERE d.id = t.device_id AND t.school_id IS NULL`.execute(db);
  await sql`ALTER TABLE sync_sessions ALTER COLUMN school_id SET NOT NULL`.execute(db);
  for (const { table, from, nullable } of ADDED) {
    await sql.raw(`ALTER TABLE ${table} ADD COLUMN school_id bigint`).execute(db);
    await sql.raw(`UPDATE ${table} t SET school_id = d.school_id ${from}`).execute(db);
    if (!nullable) await sql.raw(`ALTER TABLE ${table} ALTER COLUMN school_id SET NOT NULL`).execute(db);
  }
  for (const [table, name, , after] of KEYS) {
    await sql.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${name}, ADD CONSTRAINT ${name} ${after}`).execute(db);
  }
  for (const [name, , after] of UNIQUE_INDEXES) {
    await sql.raw(`DROP INDEX ${name}; CREATE UNIQUE INDEX ${name} ${after}`).execute(db);
  }
  for (const [table, name, , after] of FOREIGN_KEYS) {
    if (after) await sql.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${after}`).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [table, name, , after] of FOREIGN_KEYS) {
    if (after) await sql.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`).execute(db);
  }
  for (const [name, before] of UNIQUE_INDEXES) {
    await sql.raw(`DROP INDEX ${name}; CREATE UNIQUE INDEX ${name} ${before}`).execute(db);
  }
  for (const [table, name, before] of [...KEYS].reverse()) {
    await sql.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${name}, ADD CONSTRAINT ${name} ${before}`).execute(db);
  }
  for (const { table } of ADDED) await sql.raw(`ALTER TABLE ${table} DROP COLUMN school_id`).execute(db);
  await sql`ALTER TABLE sync_sessions ALTER COLUMN school_id DROP NOT NULL`.execute(db);
  await sql`UPDATE sync_sessions SET school_id = NULL WHERE push_table IS NULL`.execute(db);
  for (const [table, name, before] of FOREIGN_KEYS) {
    if (before) await sql.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${name} ${before}`).execute(db);
  }
}

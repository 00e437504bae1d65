// Users and devices are never deleted, only deactivated (users.deleted_at, devices.disabled_at):
// the database now refuses a DELETE or TRUNCATE of either table, so the foreign keys that
// pointed at them from the tables every import writes in bulk guard nothing any more and go.
// Each key cost one trigger call per inserted row (issue #21: a 50,000-row import spent more
// in the key checks than in the rows). What still holds without them:
//  - a row names an existing user: the import checks, under its transaction, that every
//    user it writes belongs to the device's school (`unknown_user`, channels/kit/csv-log.ts),
//    the REST API checks the user inside the caller's scope, and since no user row can be
//    deleted afterwards, what was checked stays true;
//  - a row names an existing device: only the device's own session writes its rows, with the
//    device row read and the session locked in that transaction; devices are never deleted;
//  - statement-level triggers cost one call per DELETE statement, not per imported row.
// Dropped: attendances.user_id/device_id, user_days.user_id, fever_events.user_id/device_id,
// readings.user_id/device_id, device_messages.device_id. Kept: the keys on tables written a
// row per sync or by staff (sessions, states, flags, marks …): cheap, and they document links.
import { type Kysely, sql } from 'kysely';

/** table, column, and the ON DELETE the key had (for down). */
const DROPPED: Array<[table: string, column: string, onDelete: string]> = [
  ['attendances', 'user_id', 'RESTRICT'], ['attendances', 'device_id', 'RESTRICT'], ['user_days', 'user_id', 'CASCADE'],
  ['fever_events', 'user_id', 'SET NULL'], ['fever_events', 'device_id', 'SET NULL'],
  ['readings', 'user_id', 'RESTRICT'], ['readings', 'device_id', 'RESTRICT'], ['device_messages', 'device_id', 'CASCADE'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% rows are never deleted: deactivate them instead (%)', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation', HINT = 'rows of other tables refer to them without a foreign key';
    END $$;
    CREATE TRIGGER users_never_deleted BEFORE DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete('users.deleted_at');
    CREATE TRIGGER users_never_truncated BEFORE TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete('users.deleted_at');
    CREATE TRIGGER devices_never_deleted BEFORE DELETE ON devices FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete('devices.disabled_at');
    CREATE TRIGGER devices_never_truncated BEFORE TRUNCATE ON devices FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete('devices.disabled_at');
  `.execute(db);
  for (const [table, column] of DROPPED) await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT ${sql.ref(`${table}_${column}_fkey`)}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const target = (column: string) => (column === 'user_id' ? sql`users(id)` : sql`devices(id)`);
  for (const [table, column, onDelete] of DROPPED) {
    await sql`ALTER TABLE ${sql.table(table)} ADD CONSTRAINT ${sql.ref(`${table}_${column}_fkey`)} FOREIGN KEY (${sql.ref(column)})
      REFERENCES ${target(column)} ON DELETE ${sql.raw(onDelete)}`.execute(db);
  }
  await sql`
    DROP TRIGGER users_never_deleted ON users; DROP TRIGGER users_never_truncated ON users;
    DROP TRIGGER devices_never_deleted ON devices; DROP TRIGGER devices_never_truncated ON devices;
    DROP FUNCTION refuse_delete();
  `.execute(db);
}

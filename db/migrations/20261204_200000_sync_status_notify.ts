// A device may wait for its status to change (GET /v4/:channel/status?wait=N, docs/PROTOCOL-EXTENSIONS.md)
// instead of polling it. Every way a channel leaves status 1 (the import's 1→2, the failure
// package's 1→2, RESET_SESSION and the stuck-session sweep) goes through this trigger, so no
// writer can forget to wake the waiting device. NOTIFY is sent at commit, i.e. exactly when
// the new status becomes visible; the payload carries the status answer itself, so the api
// answers the waiting device without reading the row again. Identical notifications of one
// transaction are folded by PostgreSQL; a rolled-back change notifies nobody.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_sync_status() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('sync_status', json_build_object(
        'device_id', NEW.device_id, 'channel', NEW.channel, 'status', NEW.status,
        'session_id', NEW.session_id, 'changed_at', NEW.changed_at)::text);
      RETURN NULL;
    END $$;
    CREATE TRIGGER sync_states_left_processing AFTER UPDATE OF status ON sync_states
      FOR EACH ROW WHEN (OLD.status = 1 AND NEW.status <> 1) EXECUTE FUNCTION notify_sync_status();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER IF EXISTS sync_states_left_processing ON sync_states;
    DROP FUNCTION IF EXISTS notify_sync_status();
  `.execute(db);
}

// A serial number is no secret (issue #33 §4–§5): an approved PUSH terminal is bound to the
// address it was approved from (or first called from, when registered in advance), per terminal
// `address_binding` ('exact', 'network': the /24 or /64 around it, 'off'); a call from elsewhere
// is held and remembered as a claim (claimed_address, since, last), and a claim while the bound
// address keeps calling is a conflict. `devices.address_alert` is what the dashboard's attention
// list shows ('address_changed', 'address_conflict'), cleared when staff confirm an address.
// Security PUSH 3.x terminals get a random RegistryCode and SessionID (those issued before stay
// valid: they were derived from the device id); once a terminal has sent the token derived from
// them, every later call must carry it. Pending terminals are looked up by address (a flood from
// one address evicts its own) and expire.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE push_terminals
      ADD COLUMN address_binding text NOT NULL DEFAULT 'network' CHECK (address_binding IN ('exact', 'network', 'off')),
      ADD COLUMN bound_address text,
      -- Confirmed by staff (approving a pending terminal seen at that address, or confirming it).
      ADD COLUMN bound_confirmed boolean NOT NULL DEFAULT false,
      ADD COLUMN bound_seen_at timestamptz,
      ADD COLUMN claimed_address text,
      ADD COLUMN claimed_since timestamptz,
      ADD COLUMN claimed_at timestamptz,
      ADD COLUMN conflict_at timestamptz,
      ADD COLUMN registry_code text,
      ADD COLUMN session_id text,
      ADD COLUMN registry_token_seen_at timestamptz;

    ALTER TABLE devices ADD COLUMN address_alert text CHECK (address_alert IN ('address_changed', 'address_conflict'));

    -- Terminals in service keep syncing from where they last called.
    UPDATE push_terminals SET bound_address = address, bound_seen_at = last_seen_at WHERE device_id IS NOT NULL;
    -- The codes issued before (derived from the device id) stay valid.
    UPDATE push_terminals SET registry_code = substr(encode(sha256(convert_to('push-registry:' || device_id::text, 'UTF8')), 'hex'), 1, 32),
      session_id = upper(substr(encode(sha256(convert_to('push-session:' || device_id::text, 'UTF8')), 'hex'), 1, 32))
    WHERE device_id IS NOT NULL;

    -- Who confirmed which address for a terminal, and the one it replaced (the audit trail).
    CREATE TABLE push_address_confirmations (
      id bigserial PRIMARY KEY,
      device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
      address text NOT NULL,
      previous_address text,
      confirmed_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      confirmed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX push_address_confirmations_device ON push_address_confirmations (device_id, id DESC);

    CREATE INDEX push_terminals_pending_address ON push_terminals (address, last_seen_at) WHERE device_id IS NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS push_terminals_pending_address;
    DROP TABLE IF EXISTS push_address_confirmations;
    ALTER TABLE devices DROP COLUMN IF EXISTS address_alert;
    ALTER TABLE push_terminals DROP COLUMN IF EXISTS address_binding, DROP COLUMN IF EXISTS bound_address, DROP COLUMN IF EXISTS bound_confirmed,
      DROP COLUMN IF EXISTS bound_seen_at, DROP COLUMN IF EXISTS claimed_address, DROP COLUMN IF EXISTS claimed_since, DROP COLUMN IF EXISTS claimed_at,
      DROP COLUMN IF EXISTS conflict_at, DROP COLUMN IF EXISTS registry_code, DROP COLUMN IF EXISTS session_id, DROP COLUMN IF EXISTS registry_token_seen_at;
  `.execute(db);
}

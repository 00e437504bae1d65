// A schema ready to shard by school (issue 32 §5, docs/scaling-schema.md "PUSH terminals at
// stage 2"): push_terminals held two things in one table keyed by serial number alone, the
// registered terminals of every school and the terminals that called before anyone registered
// them (pending: no device, no school). They part here:
//  - push_serials, the serial-number directory (a coordinator table, shared): every serial
//    number the server knows, with its school (null while pending) and, while pending, what the
//    terminal said about itself (first and last call, address, model, firmware, options). A
//    terminal calls with its serial number alone: this is where its school is found.
//  - push_terminals, per school: registered terminals only, school_id and device_id NOT NULL,
//    keyed (serial_number, school_id), every statement on it naming its school.
// Registration moves a pending row's details into push_terminals and sets the directory's school
// in one transaction; moving a terminal to another school changes both (the terminal row moves
// with the device by ON UPDATE CASCADE, the directory row by the same request).
//
// Not additive: the previous version writes pending terminals into push_terminals (now NOT NULL
// school_id) and looks serial numbers up there.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE push_serials (
      serial_number text PRIMARY KEY CHECK (serial_number ~ '^[A-Za-z0-9]{1,64}$'),
      -- Null: pending (called, nobody registered it yet).
      school_id bigint REFERENCES schools (id),
      -- What a pending terminal said about itself (null once registered: push_terminals holds it then).
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz,
      address text,
      model text,
      firmware text,
      push_version text,
      options jsonb
    );
    CREATE INDEX push_serials_pending ON push_serials (last_seen_at DESC) WHERE school_id IS NULL;
    CREATE INDEX push_serials_pending_address ON push_serials (address, last_seen_at) WHERE school_id IS NULL;

    INSERT INTO push_serials (serial_number, school_id, first_seen_at, last_seen_at, address, model, firmware, push_version, options)
    SELECT serial_number, NULL, first_seen_at, last_seen_at, address, model, firmware, push_version, options FROM push_terminals WHERE device_id IS NULL;
    INSERT INTO push_serials (serial_number, school_id, first_seen_at)
    SELECT serial_number, school_id, first_seen_at FROM push_terminals WHERE device_id IS NOT NULL;
    DELETE FROM push_terminals WHERE device_id IS NULL;

    DROP INDEX push_terminals_pending;
    DROP INDEX push_terminals_pending_address;
    ALTER TABLE push_terminals
      ALTER COLUMN school_id SET NOT NULL,
      ALTER COLUMN device_id SET NOT NULL,
      DROP CONSTRAINT push_terminals_pkey,
      ADD CONSTRAINT push_terminals_pkey PRIMARY KEY (serial_number, school_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE push_terminals
      DROP CONSTRAINT push_terminals_pkey,
      ADD CONSTRAINT push_terminals_pkey PRIMARY KEY (serial_number),
      ALTER COLUMN school_id DROP NOT NULL,
      ALTER COLUMN device_id DROP NOT NULL;
    INSERT INTO push_terminals (serial_number, first_seen_at, last_seen_at, address, model, firmware, push_version, options)
    SELECT serial_number, first_seen_at, last_seen_at, address, model, firmware, push_version, options FROM push_serials WHERE school_id IS NULL;
    CREATE INDEX push_terminals_pending ON push_terminals (last_seen_at DESC) WHERE device_id IS NULL;
    CREATE INDEX push_terminals_pending_address ON push_terminals (address, last_seen_at) WHERE device_id IS NULL;
    DROP TABLE push_serials;
  `.execute(db);
}

// School calendars (DESIGN §4 "Open days"): shared calendars (a region's, kept by the
// backoffice) and dated entries — terms, holidays, public holidays, closures — owned either by
// a shared calendar or by one school. A school subscribes to at most one shared calendar; its
// effective calendar is its school days of the week + its own entries + the subscribed ones.
// Figures apply it when they aggregate: user_days stay raw, so no change here needs a rebuild.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE calendars (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      region text CHECK (length(region) <= 200),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE calendar_entries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      calendar_id bigint REFERENCES calendars(id) ON DELETE CASCADE,
      school_id bigint REFERENCES schools(id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('term', 'holiday', 'public_holiday', 'closure')),
      label text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
      starts_on date NOT NULL,
      ends_on date NOT NULL,
      -- The iCalendar UID it was imported from: a second import of the same file updates, never duplicates.
      uid text CHECK (length(uid) <= 255),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (starts_on <= ends_on),
      CHECK ((calendar_id IS NULL) <> (school_id IS NULL))
    );
    CREATE UNIQUE INDEX calendar_entries_calendar_uid ON calendar_entries (calendar_id, uid) WHERE calendar_id IS NOT NULL AND uid IS NOT NULL;
    CREATE UNIQUE INDEX calendar_entries_school_uid ON calendar_entries (school_id, uid) WHERE school_id IS NOT NULL AND uid IS NOT NULL;
    CREATE INDEX calendar_entries_calendar ON calendar_entries (calendar_id, starts_on) WHERE calendar_id IS NOT NULL;
    CREATE INDEX calendar_entries_school ON calendar_entries (school_id, starts_on) WHERE school_id IS NOT NULL;
    CREATE TABLE calendar_subscriptions (
      school_id bigint PRIMARY KEY REFERENCES schools(id) ON DELETE CASCADE,
      calendar_id bigint NOT NULL REFERENCES calendars(id) ON DELETE RESTRICT,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX calendar_subscriptions_calendar ON calendar_subscriptions (calendar_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE calendar_subscriptions; DROP TABLE calendar_entries; DROP TABLE calendars;`.execute(db);
}

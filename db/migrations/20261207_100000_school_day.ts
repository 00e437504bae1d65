// A school's day (issue #28, DESIGN §4): the school's threshold, late_after and records_from;
// marks (append-only: a correction is a new mark); corrections of a missed badge are
// attendance rows with their author and reason, withdrawn by a row that cancels them; the
// standing mark of each user-day kept on the user-day, with the flag when it needs a look.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE schools
      ADD COLUMN attendance_threshold smallint NOT NULL DEFAULT 80 CHECK (attendance_threshold BETWEEN 0 AND 100),
      ADD COLUMN late_after time,
      ADD COLUMN records_from date;

    CREATE TABLE marks (
      id bigserial PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      date date NOT NULL,
      period text CHECK (char_length(period) BETWEEN 1 AND 40),
      mark text NOT NULL CHECK (mark IN ('present', 'late', 'absent', 'excused')),
      reason text CHECK (reason IN ('illness', 'medical', 'family', 'authorised_activity', 'other')),
      note text CHECK (char_length(note) <= 500),
      author_kind text NOT NULL CHECK (author_kind IN ('staff', 'api', 'teacher')),
      staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
      device_id uuid REFERENCES devices(id) ON DELETE RESTRICT,
      record_id bigint,
      session_id uuid,
      idempotency_key text,
      marked_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((mark = 'excused') = (reason IS NOT NULL)),
      CHECK ((author_kind = 'teacher') = (device_id IS NOT NULL)),
      UNIQUE (device_id, record_id)
    );
    CREATE INDEX marks_user_date ON marks (user_id, date);
    CREATE INDEX marks_school_date ON marks (school_id, date);

    ALTER TABLE attendances
      ADD COLUMN reason text CHECK (char_length(reason) BETWEEN 1 AND 500),
      ADD COLUMN cancels_id bigint;
    CREATE UNIQUE INDEX attendances_cancels ON attendances (cancels_id) WHERE cancels_id IS NOT NULL;

    ALTER TABLE user_days
      ADD COLUMN mark text,
      ADD COLUMN mark_reason text,
      ADD COLUMN mark_conflict text;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE user_days DROP COLUMN mark, DROP COLUMN mark_reason, DROP COLUMN mark_conflict;
    DROP INDEX attendances_cancels;
    ALTER TABLE attendances DROP COLUMN reason, DROP COLUMN cancels_id;
    DROP TABLE marks;
    ALTER TABLE schools DROP COLUMN attendance_threshold, DROP COLUMN late_after, DROP COLUMN records_from;
  `.execute(db);
}

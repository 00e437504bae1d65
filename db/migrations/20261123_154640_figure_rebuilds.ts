// Figure rebuilds: one row per requested rebuild, its one-week chunks counted as they finish.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE figure_rebuilds (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      school_id bigint NOT NULL REFERENCES schools(id) ON DELETE CASCADE,
      from_date date NOT NULL,
      to_date date NOT NULL,
      chunks_total integer NOT NULL,
      chunks_done integer NOT NULL DEFAULT 0,
      -- First day of each finished chunk: a retried chunk job never counts twice.
      done_chunks date[] NOT NULL DEFAULT '{}',
      chunks_failed integer NOT NULL DEFAULT 0,
      days_changed integer NOT NULL DEFAULT 0,
      requested_by bigint REFERENCES staff(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      CHECK (from_date <= to_date)
    );
    CREATE INDEX figure_rebuilds_school ON figure_rebuilds (school_id, created_at DESC);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE figure_rebuilds`.execute(db);
}

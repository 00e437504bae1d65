// Issue #29 (running a school from the dashboard), items 3 and 5:
// - staff_audit: every write staff make from the dashboard, with who (id and email, kept when
//   the account goes), when, which school, what (an action name, the thing touched, details);
// - calendars.timezone: a shared calendar's zone, used to place an imported file's UTC times
//   on local days (docs/CALENDAR.md named it before the api took it);
// - search_fold(text): lower case without accents, so "chloe" finds Chloé and "fernandez"
//   Fernández. With the `unaccent` extension when the server has it (the embedded PostgreSQL
//   and Debian's postgresql-15 ship it; it is a trusted extension, so the database owner may
//   create it), else a translate() of the accented Latin letters (letter for letter: œ, æ and ß stay): either way IMMUTABLE, so it
//   can be indexed. A trigram index on it serves "contains" when pg_trgm is there too.
import { type Kysely, sql } from 'kysely';

async function available(db: Kysely<unknown>, name: string): Promise<boolean> {
  const { rows } = await sql<{ ok: boolean }>`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = ${name}) AS ok`.execute(db);
  return rows[0]?.ok === true;
}

const FROM = 'àáâãäåāăąçćčďèéêëēĕėęěìíîïĩīįñńňòóôõöōőŕřśšşťţùúûüũūůűųýÿžźżłøğșțđ';
const TO = 'aaaaaaaaacccdeeeeeeeeeiiiiiiinnnooooooorrsssttuuuuuuuuuyyzzzlogstd';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE staff_audit (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
      -- The audit names people (issue 17): the email stays when the account is deleted.
      staff_email text NOT NULL,
      school_id bigint REFERENCES schools(id) ON DELETE CASCADE,
      action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
      subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 100),
      subject_id bigint,
      details jsonb NOT NULL DEFAULT '{}'
    );
    CREATE INDEX staff_audit_school ON staff_audit (school_id, at DESC, id DESC);
    CREATE INDEX staff_audit_subject ON staff_audit (subject, subject_id);
    ALTER TABLE calendars ADD COLUMN timezone text NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64);
  `.execute(db);
  if (await available(db, 'unaccent')) {
    await sql`CREATE EXTENSION IF NOT EXISTS unaccent`.execute(db);
    // Qualified with the extension's schema: CREATE INDEX (PostgreSQL 17) evaluates the
    // function with search_path = pg_catalog, so an unqualified name would not be found.
    const { rows } = await sql<{ schema: string }>`SELECT quote_ident(extnamespace::regnamespace::text) AS schema FROM pg_extension WHERE extname = 'unaccent'`.execute(db);
    const schema = rows[0].schema;
    // unaccent(text) is STABLE (it finds its dictionary by name); naming the dictionary makes
    // a call an index may hold, the usual wrapper.
    await sql.raw(`
      CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(${schema}.unaccent('${schema}.unaccent'::regdictionary, $1)) $$;
    `).execute(db);
  } else {
    await sql.raw(`
      CREATE FUNCTION search_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT translate(lower($1), '${FROM}', '${TO}') $$;
    `).execute(db);
  }
  if (await available(db, 'pg_trgm')) {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
    const { rows } = await sql<{ schema: string }>`SELECT quote_ident(extnamespace::regnamespace::text) AS schema FROM pg_extension WHERE extname = 'pg_trgm'`.execute(db);
    await sql.raw(`CREATE INDEX users_name_folded ON users USING gin (search_fold(name) ${rows[0].schema}.gin_trgm_ops)`).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX IF EXISTS users_name_folded;
    DROP FUNCTION search_fold(text);
    -- Created here (no CASCADE: anything else built on them keeps them).
    DROP EXTENSION IF EXISTS pg_trgm;
    DROP EXTENSION IF EXISTS unaccent;
    ALTER TABLE calendars DROP COLUMN timezone;
    DROP TABLE staff_audit;
  `.execute(db);
}

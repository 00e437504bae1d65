// The statement check (docs/scaling-schema.md): every statement the services ran during the test
// run that touches a per-school table must name one school (`school_id = $n`, or write the
// school_id column), so that on a database sharded by school it goes to one node. Read from
// pg_stat_statements after the last suite (global teardown): the server records every statement
// of every suite database, normalised. The tests' own fixtures and checks (connections made by
// connectTestDatabase, under the FIXTURE_ROLE) are not the service's statements and are left out.
//
// A statement that reads across schools on purpose is listed in CROSS_SCHOOL with why; those not
// scoped yet are listed in test/support/unscoped-pending.txt (UNSCOPED_PENDING), one normalised
// statement a line, to be fixed and removed. Anything else fails the run.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** Fixtures and test reads run under this role (pg_stat_statements records the user). */
export const FIXTURE_ROLE = 'attendance_fixtures';

/** Server settings the embedded test server starts with. */
export const STATEMENT_SETTINGS: Record<string, string> = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.max': '20000',
  'pg_stat_statements.track_utility': 'off',
  'pg_stat_statements.track': 'top',
};

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PENDING_FILE = path.join(HERE, 'unscoped-pending.txt');

/**
 * Per-school tables: those with a school_id column, the shared ones aside (kept in step with
 * test/foundation/shard-keys.test.ts, which checks the catalogue).
 */
export const SHARED_TABLES_WITH_SCHOOL_ID = ['staff', 'calendar_entries'];

/**
 * Cross-school on purpose: [why, a fragment of the normalised statement that identifies it].
 * Stage 1 runs them on one server; docs/scaling-schema.md says what each becomes on Citus.
 */
export const CROSS_SCHOOL: Array<[why: string, fragment: string]> = [
  // The import queue: a worker claims the oldest pending sessions of any school (stage 2: the
  // queue stays on the coordinator, or each worker claims over its own shards).
  ['import queue: is anything due', 'select exists (select $n from sync_sessions as s where processed_at is null'],
  ['import queue: claim', 'with head as ( select h.id, h.channel, h.attempts from sync_sessions as h where'],
  ['import backlog gauge', 'select count(*)::int as n from (select $n from sync_sessions where processed_at is null limit $n) as pending'],
  // One PUSH import job takes the pending ATTLOG sessions of every terminal at once
  // (channels/push/session.ts): its set-based statements carry (school_id, …) pairs per row.
  ['PUSH batch import: the sessions', 'select id, device_id, received_at, archive, push_table, school_id from sync_sessions where id = any($n::uuid[]) and processed_at is null'],
  ['PUSH batch import: finish the sessions', 'update sync_sessions s set outcome = $n, stats = t.stats::jsonb'],
  ['PUSH batch import: the terminals synced', 'update devices d set last_synced_at = now(), last_device_clock = greatest('],
  ['PUSH batch import: pupils by (school, badge)', 'join unnest($n::bigint[], $n::text[]) as k(school_id, badge) on u.school_id = k.school_id'],
  ['PUSH batch import: held punches by (school, pin)', 'join unnest($n::bigint[], $n::text[]) as k(school_id, pin) on h.school_id = k.school_id'],
  ['PUSH batch import: user-days by (school, user)', 'as r(school_id, user_id, first, last, tz) cross join lateral'],
  // The poll cache writes the last contact of every terminal that called, in one statement a second.
  ['PUSH poll cache: last contact of the terminals', 'update push_terminals t set last_seen_at = greatest(t.last_seen_at, c.at)'],
  // Periodic work over every school: sweeps, gauges, the PUSH clock and roster rounds.
  ['stuck-session sweep', 'select se.id, se.received_at from sync_states st join sync_sessions se on se.id = st.session_id and se.processed_at is null where st.status = $n'],
  ['overdue PUSH commands sweep', 'update push_commands c set status = $n, finished_at = now(), failure = $n || c.sends'],
  ['import queue gauge', 'select (select count(*) from pgboss.job where name = any($n::text[])'],
  ['PUSH clock round: terminals whose offset changed', 'select t.serial_number, t.device_id, coalesce(d.timezone, s.timezone) as timezone, t.timezone_offset_sent from push_terminals t join devices d'],
  ['PUSH roster round: terminals behind their roster', 'select t.serial_number, t.device_id, d.school_id, t.roster_version from push_terminals t join devices d on d.id = t.device_id where d.disabled_at is null and t.roster_version <'],
  ['PUSH poll cache: last contact of their devices', 'update devices d set last_seen_at = greatest(d.last_seen_at, c.at) from unnest($n::text[], $n::timestamptz[]) as c(sn, at) join push_terminals t'],
  // Back office is not limited to one school: a request naming a row by id first asks which
  // school holds it (db/repositories/school-of.ts), then filters by that school.
  ['back office: the school of a device', 'select school_id from "devices" where id = $n limit $n'],
  ['back office: the school of a user', 'select school_id from "users" where id = $n limit $n'],
  ['back office: the school of an attendance', 'select school_id from "attendances" where id = $n limit $n'],
  ['back office: the school of a message', 'select school_id from "messages" where id = $n limit $n'],
  ['back office: the school of a figure rebuild', 'select school_id from "figure_rebuilds" where id = $n limit $n'],
  ['back office: the school of a session (its device\'s now)', 'select d.school_id from sync_sessions se join devices d on d.id = se.device_id where se.id = $n limit $n'],
  // A device signs in with its id and secret only; the token it gets names its school.
  ['device sign-in: the device by id', 'select "id", "school_id", "secret_hash", "disabled_at" from "devices" where "id" = $n'],
  // Back-office lists and exports over every school (no school_id given).
  ['back office: devices needing attention, every school', 'from "devices" where "devices"."disabled_at" is null and (exists (select "st"."device_id" from "sync_states" as "st" where "st"."school_id" = "devices"."school_id"'],
  ['back office: a page of devices of several schools, their channels', 'from "sync_states" as "st" where "st"."device_id" in ($n) order by "st"."device_id", "st"."channel"'],
  ['back office: a page of devices of several schools, their pending flags', 'select "device_id", "name" from "device_flags" where "device_id" in ($n) and "delivered_in" is null'],
  ['back office: an export over every school, its devices\' names', 'select "id", "name" from "devices" where "id" in ($n)'],
  ['back office: office messages of every school', 'from "messages" as "m" left join "staff" as "s" on "s"."id" = "m"."created_by"'],
];

export function normalise(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\$\d+(\s*(,|\/\*,? \.\.\. \*\/)\s*\$\d+)*/g, '$n')
    .replace(/\$n \/\*, \.\.\. \*\//g, '$n')
    .replace(/\(\$n\)(\s*,\s*\(\$n\))+/g, '($n)')
    .trim()
    .toLowerCase();
}

/** The per-school tables a statement names (FROM, JOIN, UPDATE, INTO, DELETE FROM). */
export function tablesOf(statement: string, perSchool: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const m of statement.matchAll(/\b(?:from|join|update|into)\s+(?:only\s+)?"?([a-z_][a-z0-9_]*)"?/g)) {
    if (perSchool.has(m[1])) found.add(m[1]);
  }
  return [...found];
}

/** Whether the statement names one school: an equality on a school_id, or an INSERT writing that column. */
export function isScoped(statement: string): boolean {
  if (/"?school_id"?\s*=\s*(\$n|\d+)\b/.test(statement)) return true;
  if (/\$n(::bigint)?\s*=\s*("?[a-z_]+"?\.)?"?school_id"?/.test(statement)) return true;
  const insert = statement.match(/^(?:with .*?\) )?insert into "?[a-z_]+"?(?: as \w+)? \(([^)]*)\)/);
  return insert !== null && /\bschool_id\b/.test(insert[1]);
}

export function readPending(file = PENDING_FILE): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

export interface StatementReport {
  checked: number;
  scoped: number;
  crossSchool: number;
  pending: number;
  /** Not scoped, not listed: these fail the run. */
  unscoped: string[];
}

export function classify(statements: readonly string[], perSchool: ReadonlySet<string>, pending: readonly string[]): StatementReport {
  const known = new Set(pending);
  const report: StatementReport = { checked: 0, scoped: 0, crossSchool: 0, pending: 0, unscoped: [] };
  for (const raw of new Set(statements.map(normalise))) {
    if (!/^(with|select|insert|update|delete)\b/.test(raw)) continue;
    if (tablesOf(raw, perSchool).length === 0) continue;
    report.checked++;
    if (isScoped(raw)) report.scoped++;
    else if (CROSS_SCHOOL.some(([, fragment]) => raw.includes(fragment))) report.crossSchool++;
    else if (known.has(raw)) report.pending++;
    else report.unscoped.push(raw);
  }
  return report;
}

async function perSchoolTables(url: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(`
      SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'school_id'`);
    return new Set(tables.rows.map((r) => r.table_name).filter((t) => !SHARED_TABLES_WITH_SCHOOL_ID.includes(t)));
  } finally {
    await client.end();
  }
}

/** Reads what the services ran in the suite databases and checks it; throws on a statement not scoped and not listed. */
export async function checkStatements(adminUrl: string, templateUrl: string): Promise<StatementReport | null> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const loaded = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'`);
    if (loaded.rowCount === 0) return null;
    const perSchool = await perSchoolTables(templateUrl);
    const rows = await client.query<{ query: string }>(`
      SELECT s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname LIKE 'attendance\\_test\\_%' AND s.userid <> (SELECT oid FROM pg_roles WHERE rolname = $1)`, [FIXTURE_ROLE]);
    const report = classify(rows.rows.map((r) => r.query), perSchool, readPending());
    if (process.env.STATEMENT_CHECK_WRITE_PENDING) {
      const all = [...new Set([...readPending(), ...report.unscoped])].sort();
      fs.writeFileSync(PENDING_FILE, `${PENDING_HEADER}${all.join('\n')}\n`);
      return { ...report, pending: report.pending + report.unscoped.length, unscoped: [] };
    }
    return report;
  } finally {
    await client.end();
  }
}

const PENDING_HEADER = `# UNSCOPED_PENDING: statements on per-school tables that do not name one school yet
# (test/support/statement-check.ts, docs/scaling-schema.md). Fix one (filter it by the caller's
# school_id) and remove its line; never add a line for new code.
`;

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
export const SHARED_TABLES_WITH_SCHOOL_ID = ['staff', 'calendar_entries', 'push_serials'];

/**
 * Cross-school on purpose: [why, a fragment of the normalised statement that identifies it].
 * Stage 1 runs them on one server; docs/scaling-schema.md says what each becomes on Citus.
 */
export const CROSS_SCHOOL: Array<[why: string, fragment: string]> = [
  // The import queue: a worker claims the oldest pending sessions of any school (stage 2: the
  // queue stays on the coordinator, or each worker claims over its own shards).
  ['import queue: is anything due', 'select exists (select $n from sync_sessions as s where processed_at is null'],
  ['import queue: claim', 'with head as ( select h.id, h.channel, h.attempts, h.archive_bytes from sync_sessions as h where'],
  ['import backlog gauge', 'select count(*)::int as n from (select $n from sync_sessions where processed_at is null limit $n) as pending'],
  // One PUSH import job takes the pending ATTLOG sessions of every terminal at once
  // (channels/push/session.ts): its set-based statements carry (school_id, …) pairs per row.
  ['PUSH batch import: the sessions', 'select id, device_id, received_at, archive, push_table, school_id from sync_sessions where id = any($n::uuid[]) and processed_at is null'],
  ['PUSH batch import: finish the sessions', 'update sync_sessions s set outcome = $n, stats = t.stats::jsonb'],
  ['PUSH batch import: the terminals synced', 'update devices d set last_synced_at = now(), last_device_clock = greatest('],
  ['PUSH batch import: pupils by (school, badge)', 'join unnest($n::bigint[], $n::text[]) as k(school_id, badge) on u.school_id = k.school_id'],
  ['PUSH batch import: held punches by (school, pin)', 'join unnest($n::bigint[], $n::text[]) as k(school_id, pin) on h.school_id = k.school_id'],
  ['PUSH batch import: user-days by (school, user)', 'as r(school_id, user_id, first, last, tz) cross join lateral'],
  ['PUSH batch import: its terminals and their schools', 'select "d"."id", "d"."school_id", "d"."timezone", "s"."timezone" as "school_timezone", "s"."day_end" from "devices" as "d"'],
  ['PUSH batch import: the punches of each (terminal, PIN, day), to pair', 'as k(device_id, pin, day) on a.device_id = k.device_id and a.pin = k.pin'],
  ['PUSH batch import: the paired punches\' types', 'update attendances a set type = c.type from unnest('],
  // The import queue hands out sessions by id, whatever their school: the claimed sessions (a
  // group may hold several schools') are locked with their devices and schools (which name the
  // school for the rest of each one's import), and an attempt that failed or a session given
  // up is recorded by id.
  ['import queue: the claimed sessions locked', 'from unnest($n::uuid[]) as c(id) join sync_sessions as se on se.id = c.id join devices as d on d.id = se.device_id join schools as s on s.id = d.school_id where se.processed_at is null order by se.id for update of se'],
  ['import queue: a failed attempt put off', 'update sync_sessions set retry_at = now() + make_interval(secs => $n::float8), failure = $n where id = $n and processed_at is null'],
  ['import queue: a session given up, locked', 'select "id", "school_id", "device_id", "channel", "archive", "received_at", "processed_at" from "sync_sessions" where "id" = $n for update'],
  ['import queue: a PUSH session given up', 'update sync_sessions set outcome = $n, failure = $n, processed_at = now() where id = $n::uuid and processed_at is null'],
  // Figures of several schools at once (a PUSH batch, the close-open-days sweep); those of one
  // school (a v4 import, a staff write, a rebuild chunk) name it (db/repositories/user-days.ts).
  ['figures of several schools: any marks', 'select exists (select $n from marks where school_id = any($n::bigint[])) as found'],
  ['figures of several schools: their marks', 'join marks m on m.user_id = t.u and m.date = t.d'],
  ['figures of several schools: the days left empty', 'delete from user_days ud using unnest($n::bigint[], $n::date[]) as t(u, d) where ud.user_id = t.u and ud.date = t.d'],
  ['figures of several schools: their users locked', 'select id from users where id = any($n::bigint[]) order by id for no key update'],
  // The data mart export runs from one place over every school (datamart_* stay on the coordinator).
  ['data mart export: the keys to collect', 'insert into datamart_collect_keys (stage_id, key) select'],
  ['data mart export: the people of the keys', 'select "id", "school_id", "name", "badge", "enrolled_on", "deleted_at" from "users" where id = any($n::bigint[])'],
  ['data mart export: the schools of the keys', 'coalesce(records_from, (select min(date) from user_days where school_id = schools.id))::text as records_from from schools where id = any('],
  ['data mart export: the user-days of the keys', 'select ud.user_id::text || $n || to_char(ud.date, $n) as key,'],
  // A shared calendar (a reference row) may go only when no school subscribes to it.
  ['shared calendars: is one used by any school', 'select "school_id" from "calendar_subscriptions" where "calendar_id" = $n'],
  // The operator's CLI names a device by id alone (bin/admin.ts rotate-secret).
  ['operator CLI: a device\'s secret rotated by its id', 'update devices set secret_hash = $n where id::text = $n'],
  // Periodic work over every school (the partition and close-open-days jobs) and gauges (metrics).
  ['close-open-days sweep: past days still open', 'select d.school_id, d.user_id, d.date::text as date from user_days d join schools s on s.id = d.school_id where d.open_since is not null'],
  ['monthly partitions made ahead (the default partition\'s months)', 'with months as materialized ( select distinct date_trunc('],
  ['import queue gauge by state', 'select queue, state, sum(jobs)::int as jobs'],
  ['sync channels gauge', 'select st.channel, st.status, count(*)::int as channels from sync_states st'],
  ['devices gauge', 'with d as ( select devices.disabled_at is null as enabled'],
  // Back office is not limited to one school: a request naming a row by id first asks which
  // school holds it (db/repositories/school-of.ts), then filters by that school.
  ['back office: the school of a device', 'select school_id from "devices" where id = $n limit $n'],
  ['back office: the school of a user', 'select school_id from "users" where id = $n limit $n'],
  ['back office: the school of an attendance', 'select school_id from "attendances" where id = $n limit $n'],
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
  ['back office: attendances of every school', 'as "cursor_at" from "attendances"'],
  // Photos are shared by their hash across schools: one no school's index refers to any more goes.
  ['erasure: photos no school refers to', 'delete from photos ph where not exists (select $n from device_photos dp where dp.sha256 = ph.sha256)'],
  // The poll cache writes the last contact of every terminal that called, in one statement a second.
  ['PUSH poll cache: last contact of the terminals', 'update push_terminals t set last_seen_at = greatest(t.last_seen_at, c.at)'],
  // Periodic work over every school: sweeps, gauges, the PUSH clock and roster rounds.
  ['stuck-session sweep', 'select se.id, se.received_at from sync_states st join sync_sessions se on se.id = st.session_id and se.processed_at is null where st.status = $n'],
  ['overdue PUSH commands sweep', 'update push_commands c set status = $n, finished_at = now(), failure = $n || c.sends'],
  ['import queue gauge', 'select (select count(*) from pgboss.job where name = any($n::text[])'],
  ['PUSH clock round: terminals whose offset changed', 'select t.serial_number, t.device_id, d.school_id, coalesce(d.timezone, s.timezone) as timezone, t.timezone_offset_sent from push_terminals t join devices d'],
  ['PUSH roster round: terminals behind their roster', 'select t.serial_number, t.device_id, d.school_id, t.roster_version from push_terminals t join devices d on d.id = t.device_id where d.disabled_at is null and t.roster_version <'],
  ['PUSH poll cache: last contact of their devices', 'update devices d set last_seen_at = greatest(d.last_seen_at, c.at) from unnest($n::text[], $n::timestamptz[]) as c(sn, at) join push_terminals t'],
  ['PUSH batch import: the punches and their keys, by (school, terminal, PIN, time)', 'with ordinality as t(school_id, device_id, session_id, user_id, type, occurred_ms, pin, local_time, verify, status, temperature, ord)), keys as ( insert into attendance_push_keys'],
  ['PUSH terminals gauge (metrics)', 'as pending from push_terminals t join devices d on d.school_id = t.school_id and d.id = t.device_id'],
  ['PUSH open commands gauge (metrics)', 'select status, count(*)::int as commands from push_commands where status in ($n) group by status'],
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

/**
 * A statement whose per-school tables are all written by INSERTs (in WITH clauses too) whose
 * first column is school_id and whose first value is a parameter: every row it writes is of that
 * one school (a batch's rows and their fever events in one statement), and it reads none.
 */
export function insertsForOneSchool(statement: string, perSchool: ReadonlySet<string>): boolean {
  const tables = tablesOf(statement, perSchool);
  if (tables.length === 0) return false;
  const written = new Set<string>();
  for (const m of statement.matchAll(/\binto "?([a-z_][a-z0-9_]*)"?(?: as \w+)? \(school_id\b[^)]*\) (?:select|values \()\s*\$n\b/g)) written.add(m[1]);
  const read = [...statement.matchAll(/\b(?:from|join|update)\s+(?:only\s+)?"?([a-z_][a-z0-9_]*)"?/g)].some((m) => perSchool.has(m[1]));
  return !read && tables.every((t) => written.has(t));
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
    if (isScoped(raw) || insertsForOneSchool(raw, perSchool)) report.scoped++;
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

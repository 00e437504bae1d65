// The schema stays ready to shard by school (docs/scaling-schema.md): read from the catalogue of
// the migrated database on every run, so a new table, key or column that would break Citus's
// multi-tenant rules fails here, not on the day the data moves.
//  - a table with a school_id column is per-school (distributed by school_id), unless it is
//    one of the shared tables below; a table without one must be listed as shared;
//  - a per-school table has school_id in its primary key and in every unique index, and every
//    foreign key between two per-school tables includes school_id on both sides;
//  - no foreign key from a shared table to a per-school one;
//  - no 32-bit ids: no `id` or `…_id` column of type integer or smallint, no int4 sequence.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { connectTestDatabase, createSuiteDatabase } from '../support/database.js';

/** Replicated to every node (Citus reference tables): small, read by every school's queries. */
export const REFERENCE_TABLES = [
  'schools', 'calendars', 'calendar_entries', 'staff', 'photos', 'password_resets', 'idempotency_keys', 'auth_throttle', 'auth_known_sources',
];
/** Kept on the coordinator only (Citus local tables): the operator's and the export's bookkeeping. */
export const COORDINATOR_TABLES = [
  'admin_actions', 'schema_compatibility', 'kysely_migration', 'kysely_migration_lock',
  'datamart_changes', 'datamart_records', 'datamart_runs', 'datamart_stages', 'datamart_substages', 'datamart_uploads', 'datamart_collect_keys',
  // The staff audit holds back-office actions with no school as well as a school's own: its key
  // cannot carry school_id (docs/scaling-partitions.md).
  'staff_audit',
  // The PUSH serial-number directory: a terminal calls with its serial number alone, and one
  // nobody registered yet has no school (docs/scaling-schema.md "PUSH terminals at stage 2").
  'push_serials',
];
/**
 * Known and not yet fixed (none now: push_terminals was, until the serial-number directory
 * push_serials took the terminals that have no school yet, 20261209_100000).
 */
export const PENDING_TABLES: string[] = [];

let handle: ReturnType<typeof connectTestDatabase>;
beforeAll(async () => {
  handle = connectTestDatabase(await createSuiteDatabase());
});
afterAll(async () => {
  await handle.close();
});

interface Table { name: string; columns: string[] }
interface Key { table: string; name: string; kind: 'primary key' | 'unique index'; columns: string[] | null; def: string }
interface ForeignKey { table: string; name: string; columns: string[]; references: string; refColumns: string[]; def: string }

async function catalogue() {
  const db = handle.db;
  // Partitions are checked through their parent (the keys are declared there).
  const tables = await sql<Table>`
    SELECT c.relname AS name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     GROUP BY c.relname ORDER BY 1`.execute(db);
  // Columns null: an expression index (no column list to check).
  const keys = await sql<Key>`
    SELECT t.relname AS table, i.relname AS name, CASE WHEN x.indisprimary THEN 'primary key' ELSE 'unique index' END AS kind,
           CASE WHEN 0 = ANY(x.indkey::int2[]) THEN NULL ELSE
             (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) END AS columns,
           pg_get_indexdef(x.indexrelid) AS def
      FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
     WHERE t.relnamespace = 'public'::regnamespace AND x.indisunique AND t.relkind IN ('r', 'p') AND NOT t.relispartition
     ORDER BY 1, 2`.execute(db);
  const foreignKeys = await sql<ForeignKey>`
    SELECT t.relname AS table, c.conname AS name, r.relname AS references, pg_get_constraintdef(c.oid) AS def,
           (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
           (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
              JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS "refColumns"
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
     WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND NOT t.relispartition AND c.conparentid = 0
     ORDER BY 1, 2`.execute(db);
  const narrowIds = await sql<{ item: string }>`
    SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS item
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
       AND (a.attname = 'id' OR a.attname LIKE '%\\_id') AND a.atttypid IN ('int4'::regtype, 'int2'::regtype)
    UNION ALL
    SELECT 'sequence ' || c.relname || ' ' || format_type(s.seqtypid, NULL)
      FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
     WHERE c.relnamespace = 'public'::regnamespace AND s.seqtypid <> 'int8'::regtype
    ORDER BY 1`.execute(db);
  return { tables: tables.rows, keys: keys.rows, foreignKeys: foreignKeys.rows, narrowIds: narrowIds.rows.map((r) => r.item) };
}

type Catalogue = Awaited<ReturnType<typeof catalogue>>;
let cat: Catalogue;
beforeAll(async () => {
  cat = await catalogue();
});

const SHARED = new Set([...REFERENCE_TABLES, ...COORDINATOR_TABLES]);
const PENDING = new Set(PENDING_TABLES);

/** Per-school tables: every table with a school_id column, the shared ones aside. */
function perSchool(c: Catalogue): Set<string> {
  return new Set(c.tables.filter((t) => t.columns.includes('school_id') && !SHARED.has(t.name)).map((t) => t.name));
}

/** Every broken rule, as `table: what`; `pending` says whether a pending list covers it. */
function violations(c: Catalogue): Array<{ table: string; what: string; pending: boolean }> {
  const distributed = perSchool(c);
  const found: Array<{ table: string; what: string; pending: boolean }> = [];
  const add = (table: string, what: string, also?: string) => found.push({ table, what, pending: PENDING.has(table) || (also !== undefined && PENDING.has(also)) });
  for (const t of c.tables) {
    if (!t.columns.includes('school_id') && !SHARED.has(t.name)) add(t.name, 'has no school_id column and is not listed as shared');
  }
  for (const t of distributed) {
    if (!c.keys.some((k) => k.table === t && k.kind === 'primary key')) add(t, 'has no primary key');
  }
  for (const k of c.keys) {
    if (!distributed.has(k.table)) continue;
    if (k.columns === null || !k.columns.includes('school_id')) add(k.table, `${k.kind} without school_id: ${k.def}`);
  }
  for (const f of c.foreignKeys) {
    const from = distributed.has(f.table);
    const to = distributed.has(f.references);
    if (!from && to) add(f.table, `shared table with a foreign key on per-school ${f.references}: ${f.def}`);
    if (from && to) {
      const at = f.columns.indexOf('school_id');
      if (at === -1 || f.refColumns[at] !== 'school_id') add(f.table, `foreign key between per-school tables without school_id on both sides: ${f.name} ${f.def}`, f.references);
    }
  }
  return found;
}

describe('a schema ready to shard by school', () => {
  test('the lists name existing tables; the tables the sync writes are per-school', () => {
    const names = cat.tables.map((t) => t.name);
    expect([...SHARED, ...PENDING].filter((t) => !names.includes(t))).toEqual([]);
    // The tables the sync writes are per-school.
    expect([...perSchool(cat)]).toEqual(expect.arrayContaining(['users', 'devices', 'sync_sessions', 'sync_states', 'high_water_marks', 'user_days', 'device_flags', 'push_commands']));
  });

  // A table of a school's data gets school_id (its writers fill it); a table every school
  // shares goes into REFERENCE_TABLES or COORDINATOR_TABLES, with docs/scaling-schema.md.
  test('every table has school_id or is listed as shared; per-school tables: school_id in every primary key, unique index and foreign key between them; none from shared tables', () => {
    expect(violations(cat).filter((v) => !v.pending).map((v) => `${v.table}: ${v.what}`)).toEqual([]);
  });

  test('each table still in a pending list still breaks a rule (remove it from the list once fixed)', () => {
    const broken = new Set(violations(cat).filter((v) => v.pending).map((v) => v.table));
    expect([...PENDING].filter((t) => !broken.has(t))).toEqual([]);
  });

  test('no 32-bit ids', () => {
    expect(cat.narrowIds).toEqual([]);
  });

  test('users and devices are referenced by (school_id, id)', () => {
    const unique = (table: string) => cat.keys.filter((k) => k.table === table).map((k) => [...(k.columns ?? [])].sort().join(','));
    expect(unique('users')).toEqual(expect.arrayContaining(['id,school_id', 'badge,school_id']));
    expect(unique('devices')).toEqual(expect.arrayContaining(['id,school_id']));
    expect(unique('users').concat(unique('devices')).filter((k) => !k.split(',').includes('school_id'))).toEqual([]);
  });
});

describe('the rules catch what they are for', () => {
  // The checks run on a catalogue changed by hand: each broken rule is reported.
  const base = (): Catalogue => ({
    tables: [{ name: 'schools', columns: ['id'] }, { name: 'staff', columns: ['id', 'school_id'] }, { name: 'pupils_x', columns: ['id', 'school_id'] }, { name: 'notes_x', columns: ['id', 'school_id', 'pupil_id'] }],
    keys: [
      { table: 'pupils_x', name: 'pupils_x_pkey', kind: 'primary key', columns: ['id', 'school_id'], def: '' },
      { table: 'notes_x', name: 'notes_x_pkey', kind: 'primary key', columns: ['id', 'school_id'], def: '' },
    ],
    foreignKeys: [{ table: 'notes_x', name: 'notes_x_pupil', columns: ['school_id', 'pupil_id'], references: 'pupils_x', refColumns: ['school_id', 'id'], def: '' }],
    narrowIds: [],
  });

  test('a well-keyed pair of tables passes', () => {
    expect(violations(base())).toEqual([]);
  });

  test('a primary key, a unique index or a foreign key without school_id, or a key from a shared table, is reported', () => {
    const c = base();
    c.keys[0].columns = ['id'];
    c.keys.push({ table: 'notes_x', name: 'notes_x_u', kind: 'unique index', columns: ['pupil_id'], def: '' });
    c.foreignKeys[0] = { ...c.foreignKeys[0], columns: ['pupil_id'], refColumns: ['id'] };
    c.foreignKeys.push({ table: 'staff', name: 'staff_pupil', columns: ['school_id', 'pupil_id'], references: 'pupils_x', refColumns: ['school_id', 'id'], def: '' });
    c.tables.push({ name: 'logs_x', columns: ['id', 'pupil_id'] });
    expect(violations(c).map((v) => v.table)).toEqual(['logs_x', 'pupils_x', 'notes_x', 'notes_x', 'staff']);
  });
});

// The statement check's rule (test/support/statement-check.ts), on statements written here: the
// global teardown applies it to what the services ran during the whole test run.
import { describe, expect, test } from '@jest/globals';
import { classify, CROSS_SCHOOL, normalise, readPending } from '../../support/statement-check.js';

const PER_SCHOOL = new Set(['devices', 'sync_states', 'sync_sessions', 'high_water_marks']);

describe('the statement check', () => {
  test('a statement on a per-school table that names one school passes; one that does not is reported', () => {
    const report = classify([
      'select "st"."status" from "sync_states" as "st" where "st"."school_id" = $1 and "st"."device_id" = $2',
      'insert into high_water_marks as h (school_id, device_id, file, record_id) values ($1, $2, $3, $4)',
      'select "status" from "sync_states" where "device_id" = $1',
      'select id from schools where id = $1',
    ], PER_SCHOOL, []);
    expect(report).toEqual({
      checked: 3, scoped: 2, crossSchool: 0, pending: 0,
      unscoped: ['select "status" from "sync_states" where "device_id" = $n'],
    });
  });

  test('inserts in WITH clauses that write one school_id parameter are one school; a read or another insert beside them is not', () => {
    const perSchool = new Set([...PER_SCHOOL, 'readings', 'fever_events']);
    const report = classify([
      `with ins as (insert into readings (school_id, device_id, record_id) select $1, $2::uuid, t.r from unnest($3::bigint[]) as t(r) returning id),
       fevers as (insert into fever_events (school_id, reading_id) select $4, id from ins) select id from ins`,
      `with ins as (insert into readings (school_id, device_id, record_id) select d.school_id, d.id, $1 from devices d where d.id = $2 returning id) select id from ins`,
      `with ins as (insert into readings (school_id, device_id, record_id) select $1, $2::uuid, $3 returning id),
       fevers as (insert into fever_events (user_id, reading_id) select $4, id from ins) select id from ins`,
    ], perSchool, []);
    expect(report).toMatchObject({ checked: 3, scoped: 1 });
    expect(report.unscoped).toHaveLength(2);
  });

  test('many schools at once is not one school', () => {
    const report = classify(['select id from devices where school_id = any($1::bigint[])'], PER_SCHOOL, []);
    expect(report.unscoped).toHaveLength(1);
  });

  test('a listed cross-school statement and a pending one pass; the same statement with more parameters is the same', () => {
    const pending = normalise('select "id" from "devices" where "id" in ($1, $2)');
    const report = classify([
      `${CROSS_SCHOOL[0][1]} and 1 = 1) as found`,
      'select "id" from "devices" where "id" in ($1, $2, $3)',
      'select "id" from "devices" where "id" in ($1 /*, ... */)',
    ], PER_SCHOOL, [pending]);
    expect(report).toMatchObject({ checked: 2, crossSchool: 1, pending: 1, unscoped: [] });
  });

  test('UNSCOPED_PENDING holds normalised statements, each on a per-school table and not scoped', () => {
    const pending = readPending();
    expect(pending.every((line) => line === normalise(line))).toBe(true);
    expect(new Set(pending).size).toBe(pending.length);
  });
});

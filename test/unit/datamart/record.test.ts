// Exported records and their CSV: the entity descriptions decide field order, required
// fields and prefixed ids; control characters never reach the mart.
import { describe, expect, test } from '@jest/globals';
import { ATTENDANCE_DAYS, ENTITIES, PERSONS, SCHOOLS } from '../../../shared/datamart/entities.js';
import { buildRecord, deletionRecord, RecordError, recordsCsv, stripControlCharacters } from '../../../shared/datamart/record.js';
import { backoffMs } from '../../../worker/datamart/uploader-client.js';

describe('entity descriptions', () => {
  test('every entity has its primary key first, and every foreign key names an entity declared before it', () => {
    ENTITIES.forEach((spec, i) => {
      expect(spec.fields[0]).toMatchObject({ name: spec.primaryKey, type: 'id', required: true });
      for (const f of spec.fields.filter((f) => f.references)) {
        expect(ENTITIES.slice(0, i).map((e) => e.name)).toContain(f.references);
        expect(f.type).toBe('id');
      }
    });
    expect(ENTITIES.map((e) => e.name)).toEqual(['schools', 'persons', 'attendance_days']);
  });
});

describe('stripControlCharacters', () => {
  test.each([
    ['Alice\u0001 Martin', 'Alice Martin'],
    ['line\r\nbreak\ttab', 'linebreaktab'],
    ['del\u007f and c1\u0085\u009f', 'del and c1'],
    ['Chloé — 日本 🙂', 'Chloé — 日本 🙂'],
  ])('%j → %j', (input, output) => {
    expect(stripControlCharacters(input)).toBe(output);
  });
});

describe('buildRecord', () => {
  const person = { id: 7, school_id: 3, name: 'Bob\u0007 Stone', badge: 'B7', enrolled_on: '2026-09-01', active: false, deactivated_at: new Date('2026-11-02T10:00:00Z') };

  test('fields in the declared order, ids and foreign keys prefixed, text cleaned, instants in ISO 8601', () => {
    const record = buildRecord(PERSONS, person, 'p-');
    expect(Object.keys(record)).toEqual(PERSONS.fields.map((f) => f.name));
    expect(record).toEqual({ id: 'p-7', school_id: 'p-3', name: 'Bob Stone', badge: 'B7', enrolled_on: '2026-09-01', active: false, deactivated_at: '2026-11-02T10:00:00.000Z' });
  });

  test('an optional field may be missing; a required one may not, nor be only control characters', () => {
    expect(buildRecord(PERSONS, { ...person, deactivated_at: null }, '').deactivated_at).toBeNull();
    expect(() => buildRecord(PERSONS, { ...person, badge: null }, '')).toThrow(new RecordError('persons', 'badge', 'required'));
    expect(() => buildRecord(PERSONS, { ...person, name: '\u0001\u0002' }, '')).toThrow(/persons\.name: required/);
  });

  test('values of the wrong type are refused', () => {
    expect(() => buildRecord(PERSONS, { ...person, active: 'yes' }, '')).toThrow(/persons\.active: expected true or false/);
    expect(() => buildRecord(PERSONS, { ...person, enrolled_on: '01/09/2026' }, '')).toThrow(/expected a date/);
    expect(() => buildRecord(ATTENDANCE_DAYS, { id: '1-2026-11-20', person_id: 1, school_id: 1, date: '2026-11-20', present: true, seconds: 1.5 }, '')).toThrow(/expected an integer/);
  });

  test('lists are joined with ";"', () => {
    expect(buildRecord(SCHOOLS, { id: 1, name: 'S', timezone: 'UTC', school_days: [1, 2, 3], day_end: '17:00', attendance_threshold: 80 }, '').school_days).toBe('1;2;3');
  });
});

describe('recordsCsv', () => {
  test('upserts carry every field in order; deletes the primary key alone', () => {
    const record = buildRecord(ATTENDANCE_DAYS, {
      id: '5-2026-11-20', person_id: 5, school_id: 2, date: '2026-11-20', present: true, seconds: 18_000,
      first_checkin_at: new Date('2026-11-20T08:00:00Z'), anomalies: ['double_checkin', 'missing_checkout'],
      status: 'present', counted: true, late: true, mark: 'absent', marked_by: ['teacher:Room 4', 'staff:a@school.fr'], mark_conflict: 'absent_but_checked_in',
      corrections: 1, corrected_by: ['a@school.fr'],
    }, 'x-');
    expect(recordsCsv(ATTENDANCE_DAYS, 'upsert', [record])).toBe(
      'id,person_id,school_id,date,present,seconds,first_checkin_at,anomalies,status,counted,late,mark,mark_reason,mark_conflict,marked_by,corrections,corrected_by\r\n'
      + 'x-5-2026-11-20,x-5,x-2,2026-11-20,true,18000,2026-11-20T08:00:00.000Z,double_checkin;missing_checkout,present,true,true,absent,,absent_but_checked_in,teacher:Room 4;staff:a@school.fr,1,a@school.fr\r\n');
    expect(recordsCsv(ATTENDANCE_DAYS, 'delete', [deletionRecord(ATTENDANCE_DAYS, '5-2026-11-20', 'x-')])).toBe('id\r\nx-5-2026-11-20\r\n');
  });

  test('text with commas and quotes is quoted; a formula-looking cell is neutralised', () => {
    const record = buildRecord(SCHOOLS, { id: 1, name: '=HYPERLINK("x"), "Nord"', timezone: 'UTC', school_days: [1], day_end: '17:00', attendance_threshold: 80 }, '');
    expect(recordsCsv(SCHOOLS, 'upsert', [record]).split('\r\n')[1]).toBe('1,"\'=HYPERLINK(""x""), ""Nord""",UTC,1,17:00,80,,');
  });
});

describe('backoffMs', () => {
  test('doubles from the base delay, with jitter between half and all of it, capped at a minute', () => {
    expect(backoffMs(1, 1000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, () => 1)).toBe(1000);
    expect(backoffMs(4, 1000, () => 1)).toBe(8000);
    expect(backoffMs(4, 1000, () => 0)).toBe(4000);
    expect(backoffMs(30, 1000, () => 1)).toBe(60_000);
  });
});

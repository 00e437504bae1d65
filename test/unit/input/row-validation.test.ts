import { describe, expect, it } from '@jest/globals';
import { validateAttendanceRow } from '../../../shared/csv/attendance-row.js';
import { excerpt } from '../../../shared/csv/row-fields.js';
import { MESSAGE_COLUMNS, validateMessageRow } from '../../../shared/csv/message-row.js';
import { readCsvLog } from '../../../shared/csv/read-csv-log.js';
import { collect } from './helpers.js';
import { validateReadingRow } from '../../../shared/csv/reading-row.js';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../../shared/protocol/iso-timestamp.js';

const ctx = { receivedAt: new Date('2026-11-20T08:00:00Z') };

describe('parseIsoTimestamp', () => {
  it.each([
    ['2026-11-20T08:00:00+07:00', '2026-11-20T01:00:00.000Z'],
    ['2026-11-20T08:00:00Z', '2026-11-20T08:00:00.000Z'],
    ['2026-11-20T08:00:00-03:30', '2026-11-20T11:30:00.000Z'],
    ['2026-11-20T08:00:00.5Z', '2026-11-20T08:00:00.500Z'],
    ['2026-11-20T08:00:00.123456789+00:00', '2026-11-20T08:00:00.123Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T23:59:59+14:00', '2000-02-29T09:59:59.000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseIsoTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2026-11-20T08:00:00', // no offset
    '2026-11-20 08:00:00Z', // space
    '2026-11-20T08:00Z', // no seconds
    '2026-02-30T08:00:00Z', // no such day
    '2026-02-29T08:00:00Z', // not a leap year
    '1900-02-29T08:00:00Z', // century, not a leap year
    '2026-13-01T08:00:00Z',
    '2026-00-10T08:00:00Z',
    '2026-11-31T08:00:00Z',
    '2026-11-20T24:00:00Z',
    '2026-11-20T08:60:00Z',
    '2026-11-20T08:00:60Z', // no leap seconds
    '2026-11-20T08:00:00+7:00',
    '2026-11-20T08:00:00+0700',
    '2026-11-20T08:00:00+07:60',
    '2026-11-20T08:00:00+19:00',
    '2026-11-20T08:00:00z',
    '0000-01-01T00:00:00Z',
    '+002026-11-20T08:00:00Z',
    '2026-11-20T08:00:00.Z',
    ' 2026-11-20T08:00:00Z',
    '1763625600',
    '',
  ])('refuses %j', (text) => {
    expect(parseIsoTimestamp(text)).toBeNull();
  });

  it('formats without milliseconds unless there are some', () => {
    expect(formatIsoTimestamp(new Date('2026-11-20T08:00:03Z'))).toBe('2026-11-20T08:00:03Z');
    expect(formatIsoTimestamp(new Date('2026-11-20T08:00:03.25Z'))).toBe('2026-11-20T08:00:03.250Z');
    expect(() => formatIsoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('validateAttendanceRow', () => {
  const good = {
    record_id: '77',
    user_id: '3',
    type: 'checkin',
    occurred_at: '2026-11-20T14:30:00+07:00',
    temperature: '36.6',
    photo: 'p0077.jpg',
  };
  const check = (changes: Partial<typeof good>) => validateAttendanceRow({ ...good, ...changes }, ctx);

  it('accepts a full row', () => {
    expect(check({})).toEqual({
      ok: true,
      row: { recordId: 77, userId: 3, type: 'checkin', occurredAt: new Date('2026-11-20T07:30:00Z'), temperature: 36.6, photo: 'p0077.jpg' },
    });
  });

  it('accepts empty optional fields as null, and spaces around values', () => {
    expect(check({ temperature: '', photo: '', record_id: ' 78 ', type: ' checkout' })).toEqual({
      ok: true,
      row: { recordId: 78, userId: 3, type: 'checkout', occurredAt: new Date('2026-11-20T07:30:00Z'), temperature: null, photo: null },
    });
  });

  it.each([
    [{ record_id: '' }, 'invalid_record_id'],
    [{ record_id: '0' }, 'invalid_record_id'],
    [{ record_id: '-5' }, 'invalid_record_id'],
    [{ record_id: '+5' }, 'invalid_record_id'],
    [{ record_id: '1.0' }, 'invalid_record_id'],
    [{ record_id: '1e3' }, 'invalid_record_id'],
    [{ record_id: '0x10' }, 'invalid_record_id'],
    [{ record_id: 'abc' }, 'invalid_record_id'],
    [{ record_id: '9007199254740992' }, 'invalid_record_id'],
    [{ record_id: '12345678901234567890' }, 'invalid_record_id'],
    [{ user_id: '' }, 'unknown_user'],
    [{ user_id: '0' }, 'unknown_user'],
    [{ user_id: '-1' }, 'unknown_user'],
    [{ user_id: 'abc' }, 'unknown_user'],
    [{ user_id: '2147483648' }, 'unknown_user'],
    [{ user_id: '3.0' }, 'unknown_user'],
    [{ type: '' }, 'invalid_type'],
    [{ type: 'CHECKIN' }, 'invalid_type'],
    [{ type: 'check-in' }, 'invalid_type'],
    [{ type: 'arrive' }, 'invalid_type'],
    [{ occurred_at: '' }, 'invalid_timestamp'],
    [{ occurred_at: '2026-11-20T14:30:00' }, 'invalid_timestamp'],
    [{ occurred_at: '2026-02-30T14:30:00Z' }, 'invalid_timestamp'],
    [{ occurred_at: 'yesterday' }, 'invalid_timestamp'],
    [{ occurred_at: '2026-11-20T08:05:00.001Z' }, 'in_future'],
    [{ occurred_at: '2099-01-01T00:00:00Z' }, 'in_future'],
    [{ temperature: '27.9' }, 'temperature_out_of_range'],
    [{ temperature: '43.01' }, 'temperature_out_of_range'],
    [{ temperature: '-36' }, 'temperature_out_of_range'],
    [{ temperature: '36,6' }, 'temperature_out_of_range'],
    [{ temperature: 'abc' }, 'temperature_out_of_range'],
    [{ temperature: '3.66e1' }, 'temperature_out_of_range'],
    [{ temperature: 'NaN' }, 'temperature_out_of_range'],
    [{ temperature: 'Infinity' }, 'temperature_out_of_range'],
    [{ temperature: '.5' }, 'temperature_out_of_range'],
    [{ photo: '../etc/passwd' }, 'malformed_row'],
    [{ photo: 'photos/p1.jpg' }, 'malformed_row'],
    [{ photo: '..' }, 'malformed_row'],
    [{ photo: 'p 1.jpg' }, 'malformed_row'],
    [{ photo: 'x'.repeat(101) }, 'malformed_row'],
    [{ photo: '=HYPERLINK("x")' }, 'malformed_row'],
  ])('%j → %s', (changes, code) => {
    const result = check(changes);
    expect(result).toMatchObject({ ok: false, code });
  });

  it('accepts the boundaries: exactly 5 minutes ahead, 28.0 and 43.0 °C, a 100-character photo name, id 2^53−1', () => {
    expect(check({ occurred_at: '2026-11-20T08:05:00Z' }).ok).toBe(true);
    expect(check({ temperature: '28.0' }).ok).toBe(true);
    expect(check({ temperature: '43' }).ok).toBe(true);
    expect(check({ photo: 'x'.repeat(100) }).ok).toBe(true);
    expect(check({ record_id: '9007199254740991' })).toMatchObject({ ok: true, row: { recordId: 9007199254740991 } });
    expect(check({ record_id: '007' })).toMatchObject({ ok: true, row: { recordId: 7 } });
  });

  it('checks columns in order and names the record once it is readable', () => {
    expect(check({ record_id: 'x', user_id: 'y', type: 'z' })).toEqual({ ok: false, code: 'invalid_record_id', detail: 'record_id: "x" is not an integer from 1 to 2^53-1' });
    expect(check({ user_id: 'y', type: 'z' })).toEqual({ ok: false, code: 'unknown_user', recordId: 77, detail: 'user_id: "y" is not a user id (an integer from 1 to 2147483647)' });
    expect(check({ type: 'z', occurred_at: 'x' })).toEqual({ ok: false, code: 'invalid_type', recordId: 77, detail: 'type: "z" is not checkin or checkout' });
    expect(check({ occurred_at: 'x', temperature: '99' })).toEqual({ ok: false, code: 'invalid_timestamp', recordId: 77, detail: 'occurred_at: "x" is not an ISO 8601 time with offset (or Z) on a real date' });
    expect(check({ temperature: '99', photo: '../x' })).toEqual({ ok: false, code: 'temperature_out_of_range', recordId: 77, detail: 'temperature: "99" is not a plain decimal from 28.0 to 43.0 (°C)' });
    expect(check({ photo: '../x' })).toMatchObject({ code: 'malformed_row', detail: 'photo: "../x" is not a photo file name (letters, digits, ".", "_", "-")' });
    expect(check({ occurred_at: '2009-12-31T23:59:59Z' })).toMatchObject({ code: 'invalid_timestamp', detail: 'occurred_at: "2009-12-31T23:59:59Z" is before 2010-01-01T00:00:00Z' });
    expect(check({ occurred_at: '2026-11-20T08:05:01Z' })).toMatchObject({ code: 'in_future', detail: expect.stringMatching(/^occurred_at: "2026-11-20T08:05:01Z" is more than 5 minutes after the server received the batch \(/) });
  });

  it('quotes a value in a detail cut to 40 characters, control and line-separator characters replaced (SAFE-INPUT)', () => {
    expect(check({ type: 'é'.repeat(41) })).toMatchObject({ detail: `type: "${'é'.repeat(40)}…" is not checkin or checkout` });
    expect(check({ type: 'a\u0000b\u001bc\u007fd\u0085e\u2028f' })).toMatchObject({ detail: 'type: "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf" is not checkin or checkout' });
    expect(check({ type: '' })).toMatchObject({ detail: 'type: "" is not checkin or checkout' });
    expect(check({ type: 'say "hi"\\' })).toMatchObject({ detail: 'type: "say \\"hi\\"\\\\" is not checkin or checkout' });
    expect(excerpt('😀'.repeat(50))).toBe(`"${'😀'.repeat(40)}…"`);
  });
});

describe('validateReadingRow', () => {
  const good = { record_id: '9', measured_at: '2026-11-20T07:59:00Z', temperature: '38.2', user_id: '4', sensor: 'gate-1' };
  const check = (changes: Partial<typeof good>) => validateReadingRow({ ...good, ...changes }, ctx);

  it('accepts a reading, with or without an identified person and sensor', () => {
    expect(check({})).toEqual({ ok: true, row: { recordId: 9, userId: 4, measuredAt: new Date('2026-11-20T07:59:00Z'), temperature: 38.2, sensor: 'gate-1' } });
    expect(check({ user_id: '', sensor: '' })).toMatchObject({ ok: true, row: { userId: null, sensor: null } });
  });

  it.each([
    [{ record_id: '0' }, 'invalid_record_id'],
    [{ user_id: 'nobody' }, 'unknown_user'],
    [{ measured_at: '2026-11-20' }, 'invalid_timestamp'],
    [{ measured_at: '2026-11-21T00:00:00Z' }, 'in_future'],
    [{ temperature: '' }, 'temperature_out_of_range'],
    [{ temperature: '45' }, 'temperature_out_of_range'],
    [{ sensor: 'x'.repeat(65) }, 'malformed_row'],
    [{ sensor: 'gate\u00071' }, 'malformed_row'],
  ])('%j → %s', (changes, code) => {
    expect(check(changes)).toMatchObject({ ok: false, code });
  });
});

describe('validateMessageRow', () => {
  const good = { record_id: '3', created_at: '2026-11-20T14:00:00+07:00', kind: 'incident', body: 'Gate 2 is jammed,\nplease send someone' };
  const check = (changes: Partial<typeof good>) => validateMessageRow({ ...good, ...changes }, ctx);

  it('accepts a message and keeps its body as sent', () => {
    expect(check({})).toEqual({ ok: true, row: { recordId: 3, createdAt: new Date('2026-11-20T07:00:00Z'), kind: 'incident', body: good.body } });
    expect(check({ kind: 'info', body: ' 😀'.repeat(500) })).toMatchObject({ ok: true });
  });

  it.each([
    [{ record_id: '' }, 'invalid_record_id'],
    [{ created_at: '20/11/2026' }, 'invalid_timestamp'],
    [{ created_at: '2026-11-20T08:06:00Z' }, 'in_future'],
    [{ kind: 'alert' }, 'invalid_type'],
    [{ kind: 'Info' }, 'invalid_type'],
    [{ body: '' }, 'malformed_row'],
    [{ body: '  \n ' }, 'malformed_row'],
    [{ body: 'x'.repeat(1001) }, 'malformed_row'],
    [{ body: 'bell\u0007' }, 'malformed_row'],
  ])('%j → %s', (changes, code) => {
    expect(check(changes)).toMatchObject({ ok: false, code });
  });
});

describe('messages.csv end to end', () => {
  it('reads a body spanning lines with MESSAGE_COLUMNS and goes on after a malformed message', async () => {
    const csv = [
      'record_id,created_at,kind,body',
      '1,2026-11-20T07:00:00Z,incident,"Gate 2 jammed,',
      'please come"',
      '2,2026-11-20T07:01:00Z,info,"unclosed',
      '3,2026-11-20T07:02:00Z,info,ok',
      '',
    ].join('\r\n');
    const rows = await collect(readCsvLog(Buffer.from(csv), { ...MESSAGE_COLUMNS }));
    const results = rows.map((r) => (r.malformed ? `${r.line}:malformed_row` : `${r.line}:${JSON.stringify(validateMessageRow(r.fields, ctx))}`));
    expect(results).toEqual([
      `2:${JSON.stringify({ ok: true, row: { recordId: 1, createdAt: new Date('2026-11-20T07:00:00Z'), kind: 'incident', body: 'Gate 2 jammed,\r\nplease come' } })}`,
      '4:malformed_row',
      `5:${JSON.stringify({ ok: true, row: { recordId: 3, createdAt: new Date('2026-11-20T07:02:00Z'), kind: 'info', body: 'ok' } })}`,
    ]);
  });
});

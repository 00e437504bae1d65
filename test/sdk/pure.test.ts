// The SDK's pure parts: the error table against the protocol's, the outbox's planning and id
// allocation, the package reader against the server's own writer, the CSV both ways.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { strToU8, zipSync } from 'fflate';
import { buildInstructionsXml } from '../../shared/xml/instructions-xml.js';
import { logCsv } from '../../sdk/src/core/archive.js';
import { clockOffsetMs, planBatch } from '../../sdk/src/core/outbox.js';
import { parseCsv, readPackage } from '../../sdk/src/core/package-reader.js';
import { classify, ERROR_CLASSES } from '../../sdk/src/index.js';
import type { StoredRow } from '../../sdk/src/index.js';
import { ROOT } from '../support/processes.js';

describe('error classes', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/protocol/v4.md'), 'utf8');
  const table = doc.slice(doc.indexOf('<!-- table: http-codes -->'), doc.indexOf('### 3.7'));
  const documented = [...table.matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|/gm)].map((m) => ({ http: Number(m[1]), code: m[2] }));

  test('every code of docs/protocol/v4.md §3.6 is classified, and nothing else', () => {
    expect(documented.length).toBeGreaterThan(20);
    expect(Object.keys(ERROR_CLASSES).sort()).toEqual(documented.map((d) => d.code).sort());
  });

  test('no 4xx blocks the queue: each is fixed and resent, retried, or given up; 5xx are retried', () => {
    for (const { http, code } of documented) {
      if (http >= 500) expect([code, classify(code, http)]).toEqual([code, 'retry-later']);
    }
    expect(classify('archive_too_large', 413)).toBe('fix-and-resend');
    expect(classify('invalid_credentials', 401)).toBe('give-up');
    expect(classify('a_code_from_the_future', 418)).toBe('give-up');
    expect(classify('a_code_from_the_future', 502)).toBe('retry-later');
  });
});

describe('planBatch', () => {
  const row = (key: number, recordId: number | null, state: StoredRow['state'] = 'waiting', at = '2026-11-20T08:00:00.000Z'): StoredRow =>
    ({ key, channel: 'synchro', recordId, at, fields: { user_id: '1' }, state });

  test('new rows get ids above the high-water mark, the floor and the counter, in queue order', () => {
    const plan = planBatch({ rows: [row(3, null), row(1, null), row(2, null)], highWaterMark: 40, floor: 12, nextRecordId: 5, maxRows: 10 });
    expect(plan.rows.map((r) => [r.key, r.recordId])).toEqual([[1, 41], [2, 42], [3, 43]]);
    expect(plan.nextRecordId).toBe(44);
    // A fresh storage behind a server that holds nothing: ids from 1.
    expect(planBatch({ rows: [row(1, null)], highWaterMark: 0, floor: 0, nextRecordId: 1, maxRows: 10 }).rows[0].recordId).toBe(1);
  });

  test('ids already given are kept; rows at or below the mark are stored; refused rows never go again', () => {
    const plan = planBatch({
      rows: [row(1, 7), row(2, 9), row(3, 10, 'refused'), row(4, 11), row(5, null)], highWaterMark: 8, floor: 8, nextRecordId: 12, maxRows: 2,
    });
    expect(plan.rows.map((r) => r.recordId)).toEqual([9, 11]);
    expect(plan.nowStored).toEqual([expect.objectContaining({ key: 1, state: 'stored' })]);
    expect(plan.nextRecordId).toBe(12);
  });

  test('a RESEND_SINCE window sends stored rows of the window again, with their ids', () => {
    const plan = planBatch({
      rows: [row(1, 1, 'stored', '2026-09-02T08:00:00.000Z'), row(2, 2, 'stored', '2026-11-02T08:00:00.000Z'), row(3, null)],
      highWaterMark: 2, floor: 2, nextRecordId: 3, maxRows: 10, resend: { from: '2026-08-31T17:00:00.000Z', to: '2026-10-01T17:00:00.000Z' },
    });
    expect(plan.rows.map((r) => r.recordId)).toEqual([1, 3]);
  });

  test('the clock offset is the server time minus the middle of the round trip', () => {
    expect(clockOffsetMs('2026-11-20T10:00:00.000Z', Date.parse('2026-11-20T10:09:59.000Z'), Date.parse('2026-11-20T10:10:01.000Z'))).toBe(-600_000);
    expect(clockOffsetMs('not a time', 0, 0)).toBeNull();
  });
});

describe('package reader', () => {
  test('reads what the server writes: imports, rejections with detail, errors, clock, roster, settings, flags', () => {
    const xml = buildInstructionsXml({
      sessionId: 's-1', generatedAt: new Date('2026-11-20T10:10:01Z'),
      imports: [{ file: 'attendances.csv', received: 3, accepted: 1, duplicates: 1, rejected: 1, highWaterMark: 12 }],
      rejections: [{ file: 'attendances.csv', line: 3, recordId: 11, code: 'unknown_user' }],
      errors: [{ file: 'settings.xml', code: 'xml_invalid', detail: 'setting name "Brightness" is not allowed' }],
      clock: { serverTime: new Date('2026-11-20T10:10:01Z'), skewSeconds: -600 },
      roster: { version: 781, mode: 'full', file: 'roster.csv' },
      settings: { welcome_text: 'Xin chào & <welcome>', sync_interval_seconds: '600' },
      flags: [{ id: 17, name: 'RESEND_SINCE', params: { since: '2026-09-01' } }, { id: 19, name: 'REBOOT' }],
    });
    const roster = 'user_id,name,badge,active\r\n1,Alice Martin,B0001,1\r\n5,Emma Dubois,B0005,0\r\n6,"Nguyen, Thi Lan",,1\r\n7,\'=Bobby,,1\r\n';
    const pkg = readPackage(zipSync({ 'instructions.xml': strToU8(xml), 'roster.csv': strToU8(roster) }));
    expect(pkg).toEqual({
      sessionId: 's-1',
      imports: [{ file: 'attendances.csv', received: 3, accepted: 1, duplicates: 1, rejected: 1, highWaterMark: 12 }],
      rejections: [{ file: 'attendances.csv', line: 3, recordId: 11, code: 'unknown_user' }],
      errors: [{ file: 'settings.xml', code: 'xml_invalid', detail: 'setting name "Brightness" is not allowed', retry: false }],
      clock: { serverTime: '2026-11-20T10:10:01Z', skewSeconds: -600 },
      roster: { version: 781, mode: 'full', entries: [
        { userId: 1, name: 'Alice Martin', badge: 'B0001', active: true },
        { userId: 5, name: 'Emma Dubois', badge: 'B0005', active: false },
        { userId: 6, name: 'Nguyen, Thi Lan', badge: '', active: true },
        { userId: 7, name: '=Bobby', badge: '', active: true },
      ] },
      settings: { welcome_text: 'Xin chào & <welcome>', sync_interval_seconds: '600' },
      flags: [{ id: '17', name: 'RESEND_SINCE', params: { since: '2026-09-01' } }, { id: '19', name: 'REBOOT', params: {} }],
    });
  });

  test('a rejection\'s detail is read when the server gives one', () => {
    const xml = '<?xml version="1.0"?>\n<instructions session_id="x"><rejection file="marks.csv" line="2" code="malformed_row" detail="expected 7 fields, got 6"/></instructions>';
    expect(readPackage(zipSync({ 'instructions.xml': strToU8(xml) })).rejections).toEqual([{ file: 'marks.csv', line: 2, code: 'malformed_row', detail: 'expected 7 fields, got 6' }]);
  });

  test('a package that is not a zip, or has no instructions.xml, is package_invalid', () => {
    expect(() => readPackage(strToU8('<html>'))).toThrow(expect.objectContaining({ code: 'package_invalid' }));
    expect(() => readPackage(zipSync({ 'other.xml': strToU8('<x/>') }))).toThrow(expect.objectContaining({ code: 'package_invalid' }));
  });
});

test('CSV written by the outbox reads back field for field (quotes, commas, line breaks)', () => {
  const csv = logCsv('appel', [
    { recordId: 1, fields: { user_id: '4', date: '2026-11-20', period: 'P1, "maths"', mark: 'absent', reason: '', marked_at: '2026-11-20T08:05:00.000Z' } },
    { recordId: 2, fields: { user_id: '5', date: '2026-11-20', period: '', mark: 'excused', reason: 'illness', marked_at: '2026-11-20T08:05:10.000Z' } },
  ]);
  expect(parseCsv(csv)).toEqual([
    ['record_id', 'user_id', 'date', 'period', 'mark', 'reason', 'marked_at'],
    ['1', '4', '2026-11-20', 'P1, "maths"', 'absent', '', '2026-11-20T08:05:00.000Z'],
    ['2', '5', '2026-11-20', '', 'excused', 'illness', '2026-11-20T08:05:10.000Z'],
  ]);
});

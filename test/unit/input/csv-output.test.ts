import { describe, expect, it } from '@jest/globals';
import { stringify } from 'csv-stringify/sync';
import { buildRosterCsv } from '../../../shared/csv/roster-csv.js';
import { readCsvLog } from '../../../shared/csv/read-csv-log.js';
import { escapeFormulaCell, toCsv } from '../../../shared/csv/safe-csv-cell.js';
import { collect } from './helpers.js';

describe('escapeFormulaCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+33 6 12', "'+33 6 12"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['＝1+1', "'＝1+1"],
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ['Anne', 'Anne'],
    ['a=b', 'a=b'],
    ['', ''],
    [' =1', ' =1'],
  ])('%j → %j', (input, output) => {
    expect(escapeFormulaCell(input)).toBe(output);
  });
});

describe('toCsv', () => {
  it('writes CRLF, quotes what needs quoting, escapes formulas in text but not numbers', () => {
    expect(toCsv(['a', 'b', 'c'], [
      ['x,y', 'say "hi"', 'two\nlines'],
      [-5, '-5', null],
      [true, undefined, 12n],
    ])).toBe('a,b,c\r\n"x,y","say ""hi""","two\nlines"\r\n-5,\'-5,\r\ntrue,,12\r\n');
  });

  it('writes exactly what csv-stringify writes for the same cells', () => {
    // A seeded mix of the characters that matter: separators, quotes, line breaks, formula starts.
    const alphabet = ['a', 'Z', ' ', ',', '"', '\r', '\n', '\r\n', '=', '+', '-', '@', '\t', "'", 'é', '＝', ';'];
    let seed = 7;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    const text = () => Array.from({ length: random(6) }, () => alphabet[random(alphabet.length)]).join('');
    const cell = () => [text, text, () => random(200) - 100, () => null, () => random(2) === 1][random(5)]();
    const header = ['a', 'b,c', 'd"e', '=f'];
    const rows = Array.from({ length: 500 }, () => header.map(cell));
    for (const delimiter of ['windows', 'unix'] as const) {
      const cells = [header, ...rows].map((r) => r.map((c) => (c === null ? '' : typeof c === 'string' ? escapeFormulaCell(c) : String(c))));
      expect(toCsv(header, rows, { recordDelimiter: delimiter })).toBe(stringify(cells, { record_delimiter: delimiter, quote_record_delimiter: true, eof: true }));
    }
  });

  it('can write LF', () => {
    expect(toCsv(['a'], [['1']], { recordDelimiter: 'unix' })).toBe('a\n1\n');
  });

  it('refuses rows of the wrong length and non-finite numbers', () => {
    expect(() => toCsv(['a', 'b'], [['1']])).toThrow(/1 cells, the header 2/);
    expect(() => toCsv(['a'], [[Number.NaN]])).toThrow(RangeError);
  });
});

describe('buildRosterCsv', () => {
  it('writes user_id,name,badge,active and reads back through our own CSV reader', async () => {
    const csv = buildRosterCsv([
      { userId: 1, name: 'Nguyễn Văn An', badge: 'B-0001', active: true },
      { userId: 2, name: '=HYPERLINK("http://evil")', badge: null, active: false },
      { userId: 3, name: 'O"Brien, Pat', badge: '+42', active: true },
    ]);
    expect(csv.split('\r\n')[0]).toBe('user_id,name,badge,active');
    const rows = await collect(readCsvLog(Buffer.from(csv), { required: ['user_id', 'name', 'badge', 'active'], optional: [] }));
    expect(rows.map((r) => (r.malformed ? r : { ...r.fields }))).toEqual([
      { user_id: '1', name: 'Nguyễn Văn An', badge: 'B-0001', active: '1' },
      { user_id: '2', name: '\'=HYPERLINK("http://evil")', badge: '', active: '0' },
      { user_id: '3', name: 'O"Brien, Pat', badge: "'+42", active: '1' },
    ]);
  });
});

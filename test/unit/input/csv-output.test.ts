import { describe, expect, it } from '@jest/globals';
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

// One formula-escaping rule for both CSV writers (issue 17 §5): the server's (roster.csv in
// packages, data mart files) and the exports the dashboard downloads (api/export, issue #29),
// which once missed the full-width ＝ ＋ － ＠ that some spreadsheets read as formulas.
import { describe, expect, test } from '@jest/globals';
import { toCsv as serverCsv } from '../../../shared/csv/safe-csv-cell.js';
import { tableCsv, type ExportLang } from '../../../api/export/table-file.js';

/** The export writer over rows of text cells (the first row the headers), without its byte order mark. */
function dashboardCsv(rows: string[][], lang: ExportLang = 'en'): string {
  const [head, ...body] = rows;
  const columns = head.map((header, i) => ({ header: { en: header, fr: header }, type: 'text' as const, value: (r: string[]) => r[i] }));
  return tableCsv({ title: { en: 't', fr: 't' }, timezone: 'UTC', columns, rows: body }, lang).replace(/^\uFEFF/, '');
}

const FORMULAS = ['=1+1', '+cmd', '-2+3', '@SUM(A1)', '\tlead', '\rlead', '＝1+1', '＋cmd', '－2+3', '＠SUM(A1)', '=cmd|\' /C calc\'!A0'];
const PLAIN = ['Ada Lovelace', 'a=b', 'x+1', '１２３', 'é@home', ''];

describe.each([
  ['server writer', (cell: string) => serverCsv(['h'], [[cell]]).split('\r\n')[1]],
  ['dashboard writer', (cell: string) => dashboardCsv([['h'], [cell]]).split('\r\n')[1]],
])('%s', (_name, write) => {
  test.each(FORMULAS)('%j is written as text', (cell) => {
    const out = write(cell);
    expect(out.replace(/^"/, '').startsWith(`'${cell.slice(0, 1)}`)).toBe(true);
  });
  test.each(PLAIN)('%j is written unchanged', (cell) => {
    expect(write(cell)).toBe(cell);
  });
});

test('both writers give the same bytes for the same text cells', () => {
  const rows = [...FORMULAS, ...PLAIN, 'with, comma', 'with "quote"', 'two\nlines'].map((c) => [c, 'x']);
  expect(dashboardCsv([['a', 'b'], ...rows])).toBe(serverCsv(['a', 'b'], rows));
});

test('numbers are not text: a negative number stays a number in an export', () => {
  const out = tableCsv({ title: { en: 't', fr: 't' }, timezone: 'UTC', rows: [-3], columns: [{ header: { en: 'n', fr: 'n' }, type: 'integer', value: (n: number) => n }] }, 'en');
  expect(out.split('\r\n')[1]).toBe('-3');
});

test('the French export escapes formulas alike, with ";" between cells', () => {
  expect(dashboardCsv([['a', 'b'], ['=1+1', 'x;y']], 'fr').split('\r\n')[1]).toBe('\'=1+1;"x;y"');
});

// One formula-escaping rule for both CSV writers (issue 17 §5): the server's (roster.csv in
// packages, data mart files) and the dashboard's downloads, which used to miss the full-width
// ＝ ＋ － ＠ that some spreadsheets read as formulas.
import { describe, expect, test } from '@jest/globals';
import { toCsv as serverCsv } from '../../../shared/csv/safe-csv-cell.js';
import { csvCell, toCsv as dashboardCsv } from '../../../web/src/csv.js';

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

test('numbers are not text: a negative number stays a number in the dashboard download', () => {
  expect(csvCell(-3)).toBe('-3');
});

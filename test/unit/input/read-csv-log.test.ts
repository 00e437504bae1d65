import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { readCsvRecords, type CsvRecord } from '../../../shared/csv/csv-records.js';
import { readCsvLog, type CsvLogRow } from '../../../shared/csv/read-csv-log.js';
import { ATTENDANCE_COLUMNS } from '../../../shared/csv/attendance-row.js';
import { FileError } from '../../../shared/protocol/file-error.js';
import { collect } from './helpers.js';

/** A Readable that hands `text` over in pieces of `size` bytes, splitting UTF-8 sequences and CRLFs. */
function chunked(text: string | Buffer, size: number): Readable {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  return Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  })());
}

/** Records as compact strings: `line:a|b|c` or `line:!reason`. */
async function records(text: string | Buffer, opts: Parameters<typeof readCsvRecords>[1] = {}, chunk = 0): Promise<string[]> {
  const input = chunk ? chunked(text, chunk) : Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  return (await collect<CsvRecord>(readCsvRecords(input, opts))).map((r) => (r.malformed ? `${r.line}:!${r.reason}` : `${r.line}:${r.fields.join('|')}`));
}

const CHUNK_SIZES = [0, 1, 2, 3, 7];

describe('readCsvRecords', () => {
  it.each([
    ['LF', 'a,b\n1,2\n3,4\n', ['1:a|b', '2:1|2', '3:3|4']],
    ['CRLF', 'a,b\r\n1,2\r\n3,4\r\n', ['1:a|b', '2:1|2', '3:3|4']],
    ['lone CR', 'a,b\r1,2\r3,4', ['1:a|b', '2:1|2', '3:3|4']],
    ['no final line break', 'a,b\n1,2', ['1:a|b', '2:1|2']],
    ['a BOM', '\ufeffa,b\n1,2\n', ['1:a|b', '2:1|2']],
    ['blank and whitespace-only lines', '\n\na,b\n\n \t \n1,2\n\n', ['3:a|b', '6:1|2']],
    ['RFC 4180 quoting', 'a,b\n"1,5","say ""hi"""\n"",x\n', ['1:a|b', '2:1,5|say "hi"', '3:|x']],
    ['empty fields', 'a,b,c\n,,\n1,,\n', ['1:a|b|c', '2:||', '3:1||']],
    ['spaces kept', 'a,b\n 1 , 2 \n', ['1:a|b', '2: 1 | 2 ']],
    ['multi-byte UTF-8', 'nom,ville\nĐặng,Hà Nội 😀\n', ['1:nom|ville', '2:Đặng|Hà Nội 😀']],
  ])('reads %s, whatever the chunking', async (_label, text, expected) => {
    for (const chunk of CHUNK_SIZES) expect(await records(text, {}, chunk)).toEqual(expected);
  });

  it.each([
    ['a quote inside an unquoted field', 'a,b\n1,x"y\n3,4\n', ['1:a|b', '2:!a quote appears inside an unquoted field', '3:3|4']],
    ['text after a closing quote', 'a,b\n"1"x,2\n3,4\n', ['1:a|b', '2:!a closing quote is followed by other characters', '3:3|4']],
    ['a quote never closed on its line', 'a,b\n1,"2\n3,4\n5,6\n', ['1:a|b', '2:!a quoted field spans lines', '3:3|4', '4:5|6']],
    ['a quote never closed at the end', 'a,b\n1,"2', ['1:a|b', '2:!a quoted field is never closed']],
    ['invalid UTF-8', Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n3,4\n')]), ['1:a|b', '2:!the row is not valid UTF-8', '3:3|4']],
  ])('reports %s as malformed and goes on at the next line', async (_label, text, expected) => {
    for (const chunk of CHUNK_SIZES) expect(await records(text, {}, chunk)).toEqual(expected);
  });

  it('reports a row over maxRecordSize and goes on, without holding the long line', async () => {
    const text = `a\n${'x'.repeat(10)}\n${'y'.repeat(11)}\n${'z'.repeat(50_000)}\nb\n`;
    for (const chunk of [0, 1, 3, 4096]) {
      expect(await records(text, { maxRecordSize: 10 }, chunk)).toEqual([
        '1:a', `2:${'x'.repeat(10)}`, '3:!the row is longer than 10 characters', '4:!the row is longer than 10 characters', '5:b',
      ]);
    }
  });

  it('counts lines inside multi-line quoted fields (CRLF counts once) when multiline is on', async () => {
    const text = 'id,body\r\n1,"first\r\nsecond\r\nthird"\r\n2,"x\ny"\r\n3,z\r\n';
    for (const chunk of CHUNK_SIZES) {
      expect(await records(text, { multiline: true }, chunk)).toEqual(['1:id|body', '2:1|first\r\nsecond\r\nthird', '5:2|x\ny', '7:3|z']);
    }
  });

  it('with multiline on, an unclosed quote costs its own line only: the lines it swallowed are read again', async () => {
    const text = 'id,body\n1,"oops\n2,fine\n3,also fine\n';
    expect(await records(text, { multiline: true })).toEqual(['1:id|body', '2:!a quoted field is never closed', '3:2|fine', '4:3|also fine']);
    const long = `id,body\n1,"oops\n${'2,fine\n'.repeat(1000)}`;
    const out = await records(long, { multiline: true, maxRecordSize: 100 });
    expect(out[1]).toBe('2:!the row is longer than 100 characters');
    expect(out.slice(2)).toEqual(Array.from({ length: 1000 }, (_, i) => `${i + 3}:2|fine`));
  });
});

describe('readCsvLog', () => {
  const spec = { required: ['record_id', 'user_id'], optional: ['temperature'] };

  async function rows(text: string, chunk = 0, s = spec): Promise<CsvLogRow[]> {
    return collect(readCsvLog(chunk ? chunked(text, chunk) : Buffer.from(text, 'utf8'), s));
  }

  it('matches columns by name, ignores unknown ones and reads a missing optional column as empty', async () => {
    const out = await rows('note,user_id,record_id\nhi,5,1\n"x,y",6,2\n');
    expect(out).toEqual([
      { line: 2, fields: { record_id: '1', user_id: '5', temperature: '' } },
      { line: 3, fields: { record_id: '2', user_id: '6', temperature: '' } },
    ]);
    expect(Object.getPrototypeOf((out[0] as { fields: object }).fields)).toBeNull();
  });

  it('reads maxRows data rows, malformed ones included, and throws csv_invalid at the next one', async () => {
    const text = 'record_id,user_id\n1,1\n\n2\n3,3\n';
    expect(await collect(readCsvLog(Buffer.from(text), spec, { maxRows: 3 }))).toHaveLength(3);
    const read: CsvLogRow[] = [];
    await expect((async () => {
      for await (const row of readCsvLog(Buffer.from(text), spec, { maxRows: 2 })) read.push(row);
    })()).rejects.toEqual(new FileError('csv_invalid', 'the file holds more than 2 rows, the most one batch may carry: send its rows in smaller batches'));
    expect(read.map((r) => r.line)).toEqual([2, 4]);
  });

  it('trims header names but keeps their case', async () => {
    expect(await rows(' record_id , user_id\n1,2\n')).toEqual([{ line: 2, fields: { record_id: '1', user_id: '2', temperature: '' } }]);
    await expect(rows('Record_ID,user_id\n1,2\n')).rejects.toThrow(/missing columns: record_id/);
  });

  it('yields a row with the wrong number of fields as malformed and keeps going', async () => {
    const text = 'record_id,user_id\n1,1\n2\n3,3,3\n4,4\n';
    for (const chunk of CHUNK_SIZES) {
      expect(await rows(text, chunk)).toEqual([
        { line: 2, fields: { record_id: '1', user_id: '1', temperature: '' } },
        { line: 3, malformed: true, reason: 'expected 2 fields, got 1' },
        { line: 4, malformed: true, reason: 'expected 2 fields, got 3' },
        { line: 5, fields: { record_id: '4', user_id: '4', temperature: '' } },
      ]);
    }
  });

  it('keeps going past broken quoting in the middle of a file', async () => {
    const lines = ['record_id,user_id'];
    for (let i = 1; i <= 100; i++) lines.push(i === 50 ? '50,"5' : i === 70 ? '70,7"0' : `${i},${i}`);
    const out = await rows(lines.join('\r\n') + '\r\n', 5);
    expect(out).toHaveLength(100);
    expect(out.filter((r) => r.malformed).map((r) => r.line)).toEqual([51, 71]);
    expect(out.filter((r) => !r.malformed).map((r) => r.line)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1).filter((l) => l > 1 && l !== 51 && l !== 71));
  });

  it.each([
    ['an empty file', '', /no header row/],
    ['only blank lines', '\n\r\n  \n', /no header row/],
    ['a header without a required column', 'record_id,temperature\n1,36\n', /missing columns: user_id/],
    ['a header without any required column', 'a,b\n', /missing columns: record_id, user_id/],
    ['a malformed header', 'record_id,"user_id\n1,2\n', /header row is malformed/],
    ['a known column twice', 'record_id,user_id,record_id\n1,2,3\n', /record_id appears twice/],
  ])('fails the whole file with csv_invalid for %s', async (_label, text, message) => {
    const err = await rows(text).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('csv_invalid');
    expect((err as FileError).detail).toMatch(message);
  });

  it('streams: 200,000 rows from a Readable, all yielded, in order, without buffering the file', async () => {
    const total = 200_000;
    let produced = 0;
    const source = Readable.from((function* () {
      yield 'record_id,user_id,type,occurred_at\n';
      for (let i = 1; i <= total; i += 1000) {
        let block = '';
        for (let j = i; j < i + 1000; j++) block += `${j},${(j % 5) + 1},checkin,2026-11-18T07:30:00+07:00\n`;
        produced = i + 999;
        yield block;
      }
    })(), { objectMode: false, highWaterMark: 1 });

    let count = 0;
    let maxLead = 0;
    for await (const row of readCsvLog(source, { ...ATTENDANCE_COLUMNS })) {
      count++;
      if (row.malformed || Number(row.fields.record_id) !== count || row.line !== count + 1) throw new Error(`unexpected row ${JSON.stringify(row)}`);
      maxLead = Math.max(maxLead, produced - count);
    }
    expect(count).toBe(total);
    // The producer is never far ahead of the consumer: rows are yielded as they are read.
    expect(maxLead).toBeLessThan(10_000);
  }, 60_000);
});

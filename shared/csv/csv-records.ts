// A streaming RFC 4180 record reader for device logs that never gives up on a file because of
// one bad row. csv-parse 7.0.3 was tried first and is not used here, because with its
// `skip_records_with_error` option (checked on Node 20):
//  - after CSV_MAX_RECORD_SIZE it returns early and silently drops the rest of the current chunk;
//  - after CSV_INVALID_CLOSING_QUOTE it stays inside the quote and swallows every following row;
//  - `info.lines` counts CR and LF separately inside quoted fields, so CRLF files get wrong lines.
// A device log row must be accepted or rejected with its line, never lost (docs/protocol/v4.md §4).
//
// Rules: `,` separates fields, LF, CRLF or a lone CR ends a line, a field is quoted only when it
// starts with `"` and `""` is a quote inside it. A record is *malformed* when a quote is misplaced
// or never closed, it holds invalid UTF-8, it exceeds `maxRecordSize` characters, or (unless
// `multiline`) a quoted field spans lines. A malformed record is reported at its first line and
// reading resumes at the next physical line, so a stray quote costs one row, not the rest of
// the file. Lines that are empty or hold only spaces/tabs are skipped.

import type { Readable } from 'node:stream';

export interface CsvRecordOptions {
  /** Default 4096 characters, the record without its line break. */
  maxRecordSize?: number;
  /** Whether a quoted field may hold line breaks (default false). */
  multiline?: boolean;
}

export type CsvRecord =
  | { line: number; fields: string[]; malformed?: undefined }
  | { line: number; malformed: true; reason: string };

type Scan =
  | { kind: 'record'; fields: string[]; end: number; breaks: number; blank: boolean }
  | { kind: 'malformed'; reason: string }
  | { kind: 'incomplete' };

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const REPLACEMENT = 0xfffd;
const CHUNK = 64 * 1024;
const BLANK = /^[ \t]*$/;

const INCOMPLETE: Scan = { kind: 'incomplete' };

function malformed(reason: string): Scan {
  return { kind: 'malformed', reason };
}

/** The record ending at `lineEnd` (the index of the LF/CR ending it, or text.length at end of input). */
function finishRecord(text: string, lineEnd: number, fields: string[], breaks: number, quotedAny: boolean, badUtf8: boolean): Scan {
  if (badUtf8) return malformed('the row is not valid UTF-8');
  let end = lineEnd;
  if (lineEnd < text.length) {
    end = text.charCodeAt(lineEnd) === CR && text.charCodeAt(lineEnd + 1) === LF ? lineEnd + 2 : lineEnd + 1;
    breaks++;
  }
  const blank = !quotedAny && fields.length === 1 && BLANK.test(fields[0]);
  return { kind: 'record', fields, end, breaks, blank };
}

/**
 * Scans one record starting at `start`. `incomplete` means more input is needed to decide;
 * `end` is the index after the record's line break (or the end of input).
 */
function scanRecord(text: string, start: number, eof: boolean, max: number, multiline: boolean): Scan {
  const fields: string[] = [];
  let breaks = 0;
  let quotedAny = false;
  let badUtf8 = false;
  let i = start;

  for (;;) {
    if (i >= text.length) {
      if (!eof) return INCOMPLETE;
      fields.push('');
      return finishRecord(text, i, fields, breaks, quotedAny, badUtf8);
    }
    if (text.charCodeAt(i) === QUOTE) {
      quotedAny = true;
      let j = i + 1;
      let value = '';
      let segment = j;
      for (;;) {
        if (j - start >= max) return malformed(`the row is longer than ${max} characters`);
        if (j >= text.length) return eof ? malformed('a quoted field is never closed') : INCOMPLETE;
        const c = text.charCodeAt(j);
        if (c === QUOTE) {
          if (j + 1 >= text.length && !eof) return INCOMPLETE;
          if (text.charCodeAt(j + 1) === QUOTE) {
            value += text.slice(segment, j + 1);
            j += 2;
            segment = j;
            continue;
          }
          value += text.slice(segment, j);
          j++;
          break;
        }
        if (c === LF || c === CR) {
          if (!multiline) return malformed('a quoted field spans lines');
          if (c === CR && j + 1 >= text.length && !eof) return INCOMPLETE;
          if (c === CR && text.charCodeAt(j + 1) === LF) j++;
          breaks++;
        } else if (c === REPLACEMENT) {
          badUtf8 = true;
        }
        j++;
      }
      fields.push(value);
      i = j;
      if (i >= text.length) {
        if (!eof) return INCOMPLETE;
        return finishRecord(text, i, fields, breaks, quotedAny, badUtf8);
      }
      const next = text.charCodeAt(i);
      if (next === COMMA) {
        i++;
        continue;
      }
      if (next === LF || next === CR) {
        if (next === CR && i + 1 >= text.length && !eof) return INCOMPLETE;
        return finishRecord(text, i, fields, breaks, quotedAny, badUtf8);
      }
      return malformed('a closing quote is followed by other characters');
    }

    let j = i;
    for (;;) {
      if (j - start >= max && j < text.length && text.charCodeAt(j) !== LF && text.charCodeAt(j) !== CR) {
        return malformed(`the row is longer than ${max} characters`);
      }
      if (j >= text.length) {
        if (!eof) return INCOMPLETE;
        fields.push(text.slice(i, j));
        return finishRecord(text, j, fields, breaks, quotedAny, badUtf8);
      }
      const c = text.charCodeAt(j);
      if (c === COMMA) {
        fields.push(text.slice(i, j));
        i = j + 1;
        break;
      }
      if (c === LF || c === CR) {
        if (c === CR && j + 1 >= text.length && !eof) return INCOMPLETE;
        fields.push(text.slice(i, j));
        return finishRecord(text, j, fields, breaks, quotedAny, badUtf8);
      }
      if (c === QUOTE) return malformed('a quote appears inside an unquoted field');
      if (c === REPLACEMENT) badUtf8 = true;
      j++;
    }
  }
}

/**
 * Index just after the first line break at or after `from`, ignoring quotes; -1 when the line
 * does not end within `text` (or ends with a CR whose LF may be in the next chunk).
 */
function nextLineStart(text: string, from: number, eof: boolean): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) return i + 1;
    if (c === CR) {
      if (i + 1 >= text.length) return eof ? i + 1 : -1;
      return text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
    }
  }
  return -1;
}

async function* byteChunks(input: Buffer | Readable): AsyncGenerator<Uint8Array> {
  if (Buffer.isBuffer(input)) {
    for (let i = 0; i < input.length; i += CHUNK) yield input.subarray(i, i + CHUNK);
    return;
  }
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  }
}

/** Yields every record of a CSV stream with the physical line it starts on (first line = 1). */
export async function* readCsvRecords(input: Buffer | Readable, opts: CsvRecordOptions = {}): AsyncGenerator<CsvRecord> {
  const max = opts.maxRecordSize ?? 4096;
  const multiline = opts.multiline ?? false;
  // Non-fatal: invalid bytes become U+FFFD and only their row is malformed. The BOM is dropped.
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let line = 1;
  /** Set while skipping the rest of a malformed physical line that has not ended yet. */
  let skipping = false;

  function* drain(eof: boolean): Generator<CsvRecord> {
    let pos = 0;
    while (pos < text.length) {
      if (skipping) {
        const resume = nextLineStart(text, pos, eof);
        if (resume === -1) {
          // Keep a trailing CR: its LF may start the next chunk.
          pos = text.charCodeAt(text.length - 1) === CR ? text.length - 1 : text.length;
          if (eof) pos = text.length;
          break;
        }
        skipping = false;
        line++;
        pos = resume;
        continue;
      }
      const scan = scanRecord(text, pos, eof, max, multiline);
      if (scan.kind === 'incomplete') break;
      if (scan.kind === 'malformed') {
        yield { line, malformed: true, reason: scan.reason };
        skipping = true;
        continue;
      }
      if (!scan.blank) yield { line, fields: scan.fields };
      line += scan.breaks;
      pos = scan.end;
    }
    text = text.slice(pos);
  }

  for await (const chunk of byteChunks(input)) {
    text += decoder.decode(chunk, { stream: true });
    yield* drain(false);
  }
  text += decoder.decode();
  yield* drain(true);
}

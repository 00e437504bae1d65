// Reads an uploaded roster file (CSV or XLSX) into its header and raw rows, never more than
// ROSTER_IMPORT_MAX_ROWS (docs/DASHBOARD.md, "Pupils and staff"). The upload itself is capped
// at ROSTER_IMPORT_MAX_BYTES by multer. A CSV goes through the device logs' hardened reader
// (shared/csv/csv-records.ts). An XLSX is a zip: its central directory is checked first (entry
// count, declared sizes, compression ratio: SAFE-INPUT §1.1, a zip bomb is refused before a
// byte is inflated), then the first sheet is read with exceljs's streaming reader, which stops
// as soon as the row cap is passed, so a sheet of a million rows costs no more than the cap.
import { Readable } from 'node:stream';
import AdmZip from 'adm-zip';
import ExcelJS from 'exceljs';
import { Problem } from '../../shared/errors.js';
import { readCsvRecords } from '../../shared/csv/csv-records.js';
import { ROSTER_IMPORT_MAX_ROWS, type RawRow } from '../../shared/csv/roster-import.js';

const XLSX_MAX_ENTRIES = 200;
const XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024;
const XLSX_MAX_RATIO = 200;
const RATIO_MIN_BYTES = 64 * 1024;

export interface RosterFile {
  header: string[];
  rows: RawRow[];
}

const tooMany = () => new Problem('roster_file_invalid', `The file holds more than ${ROSTER_IMPORT_MAX_ROWS} rows: split it`, { max_rows: ROSTER_IMPORT_MAX_ROWS });

export function isXlsx(bytes: Buffer): boolean {
  return bytes.length > 4 && bytes.readUInt32LE(0) === 0x04034b50;
}

export async function readRosterFile(bytes: Buffer): Promise<RosterFile> {
  return isXlsx(bytes) ? readXlsx(bytes) : readCsv(bytes);
}

async function readCsv(bytes: Buffer): Promise<RosterFile> {
  let header: string[] | null = null;
  const rows: RawRow[] = [];
  for await (const record of readCsvRecords(bytes, { maxRecordSize: 4096 })) {
    if (header === null) {
      if (record.malformed) throw new Problem('roster_file_invalid', `The header line cannot be read: ${record.reason}`);
      header = record.fields;
      continue;
    }
    if (rows.length >= ROSTER_IMPORT_MAX_ROWS) throw tooMany();
    rows.push(record.malformed ? { line: record.line, cells: [], malformed: true } : { line: record.line, cells: record.fields });
  }
  if (header === null) throw new Problem('roster_file_invalid', 'The file is empty');
  return { header, rows };
}

function checkZip(bytes: Buffer): void {
  let entries;
  try {
    entries = new AdmZip(bytes).getEntries();
  } catch {
    throw new Problem('roster_file_invalid', 'The spreadsheet cannot be read (not a valid .xlsx)');
  }
  if (entries.length > XLSX_MAX_ENTRIES) throw new Problem('roster_file_invalid', 'The spreadsheet holds too many parts');
  let total = 0;
  for (const e of entries) {
    const size = e.header.size;
    total += size;
    if (size >= RATIO_MIN_BYTES && size > XLSX_MAX_RATIO * Math.max(1, e.header.compressedSize)) {
      throw new Problem('roster_file_invalid', 'The spreadsheet is compressed suspiciously well: refused');
    }
  }
  if (total > XLSX_MAX_UNCOMPRESSED) throw new Problem('roster_file_invalid', 'The spreadsheet is too large once uncompressed');
}

/** A cell as text; a formula is reported, not evaluated or trusted (its cached result could be anything). */
function cellText(value: ExcelJS.CellValue): { text: string; formula: boolean } {
  if (value === null || value === undefined) return { text: '', formula: false };
  if (value instanceof Date) return { text: value.toISOString().slice(0, 10), formula: false };
  if (typeof value === 'object') {
    if ('formula' in value || 'sharedFormula' in value) return { text: '', formula: true };
    if ('richText' in value) return { text: value.richText.map((r) => r.text).join(''), formula: false };
    if ('text' in value) return { text: String(value.text), formula: false };
    if ('error' in value) return { text: '', formula: false };
    return { text: '', formula: false };
  }
  return { text: String(value), formula: false };
}

async function readXlsx(bytes: Buffer): Promise<RosterFile> {
  checkZip(bytes);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(bytes), {
    worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'ignore',
  });
  let header: string[] | null = null;
  const rows: RawRow[] = [];
  try {
    for await (const sheet of reader) {
      for await (const row of sheet) {
        const cells: string[] = [];
        let formula = false;
        const values = Array.isArray(row.values) ? row.values.slice(1) : [];
        for (const v of values) {
          const c = cellText(v as ExcelJS.CellValue);
          cells.push(c.text);
          formula ||= c.formula;
        }
        if (cells.every((c) => c.trim() === '') && !formula) continue;
        if (header === null) {
          header = cells;
          continue;
        }
        if (rows.length >= ROSTER_IMPORT_MAX_ROWS) throw tooMany();
        rows.push({ line: row.number, cells, formula });
      }
      break; // the first sheet only
    }
  } catch (err) {
    if (err instanceof Problem) throw err;
    throw new Problem('roster_file_invalid', 'The spreadsheet cannot be read (not a valid .xlsx)');
  }
  if (header === null) throw new Problem('roster_file_invalid', 'The spreadsheet is empty');
  return { header, rows };
}

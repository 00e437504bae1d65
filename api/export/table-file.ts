// One table → a file a French or English office opens as it is (issue #29 item 4): every
// export of the api goes through here, so a column added to a table reaches both formats.
// - CSV in the reader's language: headers translated, `;` and a decimal comma for French
//   (French Excel splits on `;` and reads "37,8"), `,` and "37.8" for English, a UTF-8 byte
//   order mark always (without it Excel reads "Chloé" as "ChloÃ©"), local times with the
//   zone named in the header, text cells escaped against formulas (shared/csv/formula-escape.ts).
// - XLSX written with exceljs (a well-kept writer; an .xlsx is zipped XML with styles, not
//   something to hand-write): typed cells — dates and date-times as dates, rates as
//   percentages, counts as numbers — and data never becomes a formula (every text is a string
//   cell).
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { escapeFormulaCell } from '../../shared/csv/formula-escape.js';
import { localWallMs } from '../../shared/time/zoned.js';

export const EXPORT_LANGS = ['en', 'fr'] as const;
export type ExportLang = (typeof EXPORT_LANGS)[number];
export type ExportFormat = 'csv' | 'xlsx';

/**
 * - text, integer, decimal: as they are;
 * - percent: a ratio (0.875 is 87.5 %);
 * - date: 'YYYY-MM-DD', a local day;
 * - datetime: an instant (Date or ISO string), written as the table's zone's wall clock;
 * - boolean.
 */
export type CellType = 'text' | 'integer' | 'decimal' | 'percent' | 'date' | 'datetime' | 'boolean';

export interface ExportColumn<R> {
  header: Record<ExportLang, string>;
  type: CellType;
  value: (row: R) => unknown;
}

export interface ExportTable<R> {
  /** The sheet's name and the file name's start. */
  title: Record<ExportLang, string>;
  columns: Array<ExportColumn<R>>;
  rows: R[];
  /** The zone date-times are written in (named in their headers). */
  timezone: string;
}

const WORDS: Record<ExportLang, { yes: string; no: string }> = { en: { yes: 'yes', no: 'no' }, fr: { yes: 'oui', no: 'non' } };

/** The reader's language: `lang` if given, else the first Accept-Language we write, else English. */
export function exportLang(lang: string | undefined, acceptLanguage: string | undefined): ExportLang {
  const known = (tag: string | undefined) => EXPORT_LANGS.find((l) => l === tag?.trim().toLowerCase().split(/[-;]/)[0]);
  return known(lang) ?? (acceptLanguage ?? '').split(',').map(known).find(Boolean) ?? 'en';
}

function headerOf<R>(c: ExportColumn<R>, lang: ExportLang, timezone: string): string {
  return c.type === 'datetime' ? `${c.header[lang]} (${timezone})` : c.header[lang];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local wall time parts of an instant. */
function wall(value: unknown, timezone: string): Date | null {
  const at = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (!at || Number.isNaN(at.getTime())) return null;
  return new Date(localWallMs(at, timezone));
}

function dayParts(value: unknown): [number, number, number] | null {
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function decimal(n: number, lang: ExportLang, digits?: number): string {
  const text = digits === undefined ? String(n) : String(Number(n.toFixed(digits)));
  return lang === 'fr' ? text.replace('.', ',') : text;
}

/** One cell as CSV text (unquoted). */
function csvText(type: CellType, value: unknown, lang: ExportLang, timezone: string): string {
  if (value === null || value === undefined || value === '') return '';
  switch (type) {
    case 'integer':
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value) ? decimal(value, lang) : '';
    case 'percent':
      return typeof value === 'number' && Number.isFinite(value) ? `${decimal(value * 100, lang, 1)}%` : '';
    case 'boolean':
      return value ? WORDS[lang].yes : WORDS[lang].no;
    case 'date': {
      const d = dayParts(value);
      if (!d) return '';
      return lang === 'fr' ? `${pad(d[2])}/${pad(d[1])}/${d[0]}` : `${d[0]}-${pad(d[1])}-${pad(d[2])}`;
    }
    case 'datetime': {
      const w = wall(value, timezone);
      if (!w) return '';
      const time = `${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}`;
      return lang === 'fr'
        ? `${pad(w.getUTCDate())}/${pad(w.getUTCMonth() + 1)}/${w.getUTCFullYear()} ${time}`
        : `${w.getUTCFullYear()}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())} ${time}`;
    }
    case 'text':
      return escapeFormulaCell(String(value));
  }
}

export function tableCsv<R>(table: ExportTable<R>, lang: ExportLang): string {
  const sep = lang === 'fr' ? ';' : ',';
  const quote = (text: string) => (text.includes(sep) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const lines = [table.columns.map((c) => quote(escapeFormulaCell(headerOf(c, lang, table.timezone)))).join(sep)];
  for (const row of table.rows) lines.push(table.columns.map((c) => quote(csvText(c.type, c.value(row), lang, table.timezone))).join(sep));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

const FORMATS: Record<ExportLang, Partial<Record<CellType, string>>> = {
  en: { integer: '0', decimal: '0.0', percent: '0.0%', date: 'yyyy-mm-dd', datetime: 'yyyy-mm-dd hh:mm:ss' },
  fr: { integer: '0', decimal: '0.0', percent: '0.0%', date: 'dd/mm/yyyy', datetime: 'dd/mm/yyyy hh:mm:ss' },
};

function xlsxValue(type: CellType, value: unknown, timezone: string): ExcelJS.CellValue {
  if (value === null || value === undefined || value === '') return null;
  switch (type) {
    case 'integer':
    case 'decimal':
    case 'percent':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'boolean':
      return Boolean(value);
    case 'date': {
      const d = dayParts(value);
      return d ? new Date(Date.UTC(d[0], d[1] - 1, d[2])) : null;
    }
    case 'datetime':
      return wall(value, timezone);
    case 'text':
      // A string cell: exceljs writes a formula only for a { formula } value, never for text.
      return String(value);
  }
}

/** A sheet name Excel accepts: at most 31 characters, none of []:*?/\ . */
function sheetName(title: string): string {
  return title.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31) || 'Sheet1';
}

/**
 * The streaming writer, a row committed at a time: a school's 2,000 pupils by 28 days is 56,000
 * cells, and the api's event loop gets its turn between rows instead of waiting for the whole
 * book (the in-memory writer held it for about a second).
 */
export async function tableXlsx<R>(table: ExportTable<R>, lang: ExportLang): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => { sink.on('end', resolve); sink.on('error', reject); });
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useSharedStrings: false, useStyles: true });
  book.creator = 'attendance-sync';
  const sheet = book.addWorksheet(sheetName(table.title[lang]), { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = table.columns.map((c) => {
    const header = headerOf(c, lang, table.timezone);
    const numFmt = FORMATS[lang][c.type];
    return { header, width: Math.min(40, Math.max(10, header.length + 2, c.type === 'datetime' ? 20 : 0)), style: numFmt ? { numFmt } : {} };
  });
  const head = sheet.getRow(1);
  head.font = { bold: true };
  head.commit();
  let n = 0;
  const formats = table.columns.map((c) => FORMATS[lang][c.type]);
  for (const row of table.rows) {
    const added = sheet.addRow(table.columns.map((c) => xlsxValue(c.type, c.value(row), table.timezone)));
    // Each cell carries its format: a reader need not apply the column's.
    formats.forEach((numFmt, i) => { if (numFmt) added.getCell(i + 1).numFmt = numFmt; });
    added.commit();
    if (++n % 200 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  sheet.commit();
  await book.commit();
  await done;
  return Buffer.concat(chunks);
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** The file's bytes, type and a Content-Disposition naming it `<name>.<format>`. */
export async function tableFile<R>(table: ExportTable<R>, format: ExportFormat, lang: ExportLang, name: string) {
  const safe = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'export';
  const bytes = format === 'csv' ? tableCsv(table, lang) : await tableXlsx(table, lang);
  return { bytes, contentType: CONTENT_TYPES[format], headers: { 'Content-Disposition': `attachment; filename="${safe}.${format}"`, 'Content-Language': lang } };
}

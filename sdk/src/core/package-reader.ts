// Reads an instruction package (docs/protocol/v4.md §5): instructions.xml and roster.csv from the zip.
// The server writes instructions.xml itself, flat and escaped (shared/xml/instructions-xml.ts), so a
// small reader of elements and attributes is enough; unknown elements and attributes are ignored (§5.1).
import { strFromU8, unzipSync } from 'fflate';
import { SyncError, LOCAL_CODES } from './errors.js';
import type { RosterEntry } from './types.js';

export interface PackageImport { file: string; received: number; accepted: number; duplicates: number; rejected: number; highWaterMark: number }
export interface PackageRejection { file: string; line: number; recordId?: number; code: string; detail?: string }
export interface PackageError { file?: string; code: string; detail?: string; retry: boolean }
export interface PackageFlag { id: string; name: string; params: Record<string, string> }

export interface InstructionPackage {
  sessionId: string;
  imports: PackageImport[];
  rejections: PackageRejection[];
  errors: PackageError[];
  clock?: { serverTime: string; skewSeconds: number };
  roster?: { version: number; mode: 'delta' | 'full'; entries: RosterEntry[] };
  settings?: Record<string, string>;
  flags: PackageFlag[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(cp) ? String.fromCodePoint(cp) : whole;
    }
    return ENTITIES[ref] ?? whole;
  });
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) out[m[1]] = decodeXml(m[2]);
  return out;
}

/** Attributes of each `<tag …>` (self-closing or not) of the document, in order. */
function elements(xml: string, tag: string): Array<Record<string, string>> {
  return Array.from(xml.matchAll(new RegExp(`<${tag}(\\s[^>]*?)?/?>`, 'g')), (m) => attributes(m[1] ?? ''));
}

const int = (v: string | undefined): number => (v === undefined || v === '' ? 0 : Number(v));

export function readPackage(zip: Uint8Array): InstructionPackage {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch {
    throw new SyncError(LOCAL_CODES.badPackage, 'The instruction package is not a readable zip');
  }
  const raw = files['instructions.xml'];
  if (!raw) throw new SyncError(LOCAL_CODES.badPackage, 'The instruction package has no instructions.xml');
  const xml = strFromU8(raw);
  const root = /<instructions(\s[^>]*)?>/.exec(xml);
  if (!root) throw new SyncError(LOCAL_CODES.badPackage, 'instructions.xml has no <instructions> root');
  const pkg: InstructionPackage = {
    sessionId: attributes(root[1] ?? '').session_id ?? '',
    imports: elements(xml, 'import').map((a) => ({
      file: a.file ?? '', received: int(a.received), accepted: int(a.accepted), duplicates: int(a.duplicates), rejected: int(a.rejected), highWaterMark: int(a.high_water_mark),
    })),
    rejections: elements(xml, 'rejection').map((a) => ({
      file: a.file ?? '', line: int(a.line), code: a.code ?? 'unknown',
      ...(a.record_id ? { recordId: Number(a.record_id) } : {}), ...(a.detail ? { detail: a.detail } : {}),
    })),
    errors: elements(xml, 'error').map((a) => ({ ...(a.file ? { file: a.file } : {}), code: a.code ?? 'unknown', ...(a.detail ? { detail: a.detail } : {}), retry: a.retry === 'true' })),
    flags: elements(xml, 'flag').map(({ id = '', name = '', ...params }) => ({ id, name, params })),
  };
  const clock = elements(xml, 'clock')[0];
  if (clock) pkg.clock = { serverTime: clock.server_time ?? '', skewSeconds: int(clock.skew_seconds) };
  const settings = /<settings>([\s\S]*?)<\/settings>/.exec(xml);
  if (settings) {
    pkg.settings = {};
    for (const m of settings[1].matchAll(/<([a-z][a-z0-9_]*)>([\s\S]*?)<\/\1>|<([a-z][a-z0-9_]*)\/>/g)) {
      if (m[1]) pkg.settings[m[1]] = decodeXml(m[2]);
      else pkg.settings[m[3]] = '';
    }
  }
  const roster = elements(xml, 'roster')[0];
  if (roster) {
    const file = files[roster.file ?? 'roster.csv'];
    if (!file) throw new SyncError(LOCAL_CODES.badPackage, `The package names ${roster.file} but does not hold it`);
    pkg.roster = { version: int(roster.version), mode: roster.mode === 'full' ? 'full' : 'delta', entries: readRosterCsv(strFromU8(file)) };
  }
  return pkg;
}

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

/** roster.csv (§5.5), columns matched by name. A name the server prefixed with `'` (formula guard) is shown without it. */
export function readRosterCsv(text: string): RosterEntry[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  const col = (name: string) => header.indexOf(name);
  const [id, name, badge, active] = [col('user_id'), col('name'), col('badge'), col('active')];
  return rows
    .filter((r) => r[id] !== undefined && /^\d+$/.test(r[id]))
    .map((r) => ({
      userId: Number(r[id]),
      name: (r[name] ?? '').replace(/^'(?=[=+\-@\t\r＝＋－＠])/, ''),
      badge: r[badge] ?? '',
      active: (r[active] ?? '1') !== '0',
    }));
}

// What a device puts in an upload (docs/protocol/v4.md §4) and reads from an instruction package (§5).
import AdmZip from 'adm-zip';
import { buildZip } from '../shared/archive/build-zip.js';

export function deviceXml(opts: { clock?: Date | string; rosterVersion?: number; firmware?: string; pendingRecords?: number } = {}): string {
  const clock = opts.clock instanceof Date ? opts.clock.toISOString() : (opts.clock ?? new Date().toISOString());
  return `<device><firmware>${opts.firmware ?? '2.4.1'}</firmware><clock>${clock}</clock><timezone>Europe/Paris</timezone>`
    + `<pending_records>${opts.pendingRecords ?? 0}</pending_records><roster_version>${opts.rosterVersion ?? 0}</roster_version></device>`;
}

export interface CsvAttendance {
  record_id: number | string;
  user_id: number | string;
  type: string;
  occurred_at: string;
  temperature?: string | number;
  photo?: string;
}

export const ATTENDANCES_HEADER = 'record_id,user_id,type,occurred_at,temperature,photo';

export function attendancesCsv(rows: readonly CsvAttendance[]): string {
  const lines = [ATTENDANCES_HEADER];
  for (const r of rows) lines.push([r.record_id, r.user_id, r.type, r.occurred_at, r.temperature ?? '', r.photo ?? ''].join(','));
  return `${lines.join('\n')}\n`;
}

export function batchZip(files: Record<string, string | Buffer>): Buffer {
  return buildZip(Object.entries(files).map(([name, data]) => ({ name, data })));
}

export interface Package {
  xml: string;
  files: Record<string, string>;
  /** Attributes of every element named `tag`, in order. */
  all(tag: string): Array<Record<string, string>>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** An attribute value as written by shared/xml (the five entities and character references). */
function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (all, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)));
    return ENTITIES[ref] ?? all;
  });
}

export function readPackage(zip: Buffer): Package {
  const archive = new AdmZip(zip);
  const files: Record<string, string> = {};
  for (const e of archive.getEntries()) files[e.entryName] = e.getData().toString('utf8');
  const xml = files['instructions.xml'];
  return {
    xml,
    files,
    all(tag) {
      const out: Array<Record<string, string>> = [];
      for (const m of xml.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))) {
        const attrs: Record<string, string> = {};
        for (const a of m[1].matchAll(/([a-z_]+)="([^"]*)"/g)) attrs[a[1]] = unescapeXml(a[2]);
        out.push(attrs);
      }
      return out;
    },
  };
}

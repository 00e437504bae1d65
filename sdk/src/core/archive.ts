// What goes up (docs/protocol/v4.md §3.3.1, §4): device.xml, settings.xml when the manifest asks
// for it, and the channel's CSV log, zipped with fflate (deflated entries, flat names).
import { zipSync, strToU8 } from 'fflate';
import type { Channel } from './types.js';

export const CSV_COLUMNS: Record<Channel, readonly string[]> = {
  synchro: ['record_id', 'user_id', 'type', 'occurred_at', 'temperature', 'photo'],
  appel: ['record_id', 'user_id', 'date', 'period', 'mark', 'reason', 'marked_at'],
};

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface DeviceInfo {
  firmware?: string;
  timezone?: string;
  /** The clock the device used for its rows (the SDK's corrected clock). */
  clock: Date;
  pendingRecords: number;
  rosterVersion?: number;
}

/** §4.1: every element optional; the SDK reports what it knows. */
export function deviceXml(info: DeviceInfo): string {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<device>'];
  if (info.firmware) parts.push(`<firmware>${escapeXml(info.firmware)}</firmware>`);
  parts.push(`<clock>${info.clock.toISOString()}</clock>`);
  if (info.timezone) parts.push(`<timezone>${escapeXml(info.timezone)}</timezone>`);
  parts.push(`<pending_records>${Math.max(0, Math.floor(info.pendingRecords))}</pending_records>`);
  if (info.rosterVersion !== undefined) parts.push(`<roster_version>${info.rosterVersion}</roster_version>`);
  parts.push('</device>\n');
  return parts.join('');
}

const SETTING_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** §4.2: the settings the device holds (names the server would refuse are left out). */
export function settingsXml(settings: Record<string, string>): string {
  const body = Object.entries(settings)
    .filter(([name]) => SETTING_NAME.test(name))
    .slice(0, 100)
    .map(([name, value]) => `<${name}>${escapeXml(String(value).slice(0, 1000))}</${name}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<settings>${body}</settings>\n`;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (§4.3). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value.startsWith('"') ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface CsvRow {
  recordId: number;
  fields: Record<string, string>;
}

/** The channel's log: header, then one line per row, LF ends. */
export function logCsv(channel: Channel, rows: readonly CsvRow[]): string {
  const cols = CSV_COLUMNS[channel];
  const lines = [cols.join(',')];
  for (const row of rows) lines.push(cols.map((c) => csvField(c === 'record_id' ? String(row.recordId) : (row.fields[c] ?? ''))).join(','));
  return `${lines.join('\n')}\n`;
}

/** The zip: names flat, entries deflated, a fixed time so the same files give the same bytes. */
export function batchZip(files: Record<string, string>): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 6; mtime: Date }]> = {};
  const mtime = new Date('2020-01-01T00:00:00Z');
  for (const [name, text] of Object.entries(files)) entries[name] = [strToU8(text), { level: 6, mtime }];
  return zipSync(entries);
}

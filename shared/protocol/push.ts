// The PUSH (iclock) wire format (docs/protocol/push.md): serial numbers, ATTLOG lines, key=value
// option lists, devicecmd results, OPERLOG user records, and the terminal's wall clock read in
// its timezone. Pure functions; the api and the worker both use them.
import { DateTime } from 'luxon';
import { MAX_FUTURE_SKEW_MS, type RowRejectionCode } from './codes.js';

/** docs/protocol/push.md §1: 1–64 characters A-Z a-z 0-9, case-sensitive. */
export const SERIAL_NUMBER = /^[A-Za-z0-9]{1,64}$/;

/** A PUSH upload body above this is refused with 413: a real terminal's batch is a few tens of KiB. */
export const PUSH_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The session channel a PUSH ATTLOG upload is stored under (sync_sessions.channel). */
export const PUSH_SESSION_CHANNEL = 'push';
/** The file name an ATTLOG batch is reported under (session stats, rejections). */
export const ATTLOG_FILE = 'ATTLOG';

/** A PIN is the user's badge: printable, no tabs or control characters. */
const PIN = /^[^\x00-\x1f\x7f]{1,64}$/;
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function isSerialNumber(value: unknown): value is string {
  return typeof value === 'string' && SERIAL_NUMBER.test(value);
}

/** Non-empty lines of a body, LF or CRLF (a lone CR too), trailing whitespace of a line kept but the CR dropped. */
export function bodyLines(body: string): string[] {
  return body.split(/\r\n|\n|\r/).filter((line) => line.trim() !== '');
}

export type PunchType = 'checkin' | 'checkout';

export interface AttlogPunch {
  pin: string;
  /** 'YYYY-MM-DD HH:MM:SS', the terminal's wall clock. */
  localTime: string;
  occurredAt: Date;
  status: number;
  /** Null: the terminal has no in/out (255 or an unknown status): the type is inferred by pairing. */
  type: PunchType | null;
  verify: number | null;
}

/** docs/protocol/push.md §4 status: 0 in, 1 out, 2 break-out, 3 break-in, 4 overtime-in, 5 overtime-out; others (255 …) "punch". */
export function typeOfStatus(status: number): PunchType | null {
  if (status === 0 || status === 3 || status === 4) return 'checkin';
  if (status === 1 || status === 2 || status === 5) return 'checkout';
  return null;
}

export type AttlogLine = { ok: true; punch: AttlogPunch } | { ok: false; code: RowRejectionCode };

/**
 * One ATTLOG line: `PIN \t YYYY-MM-DD HH:MM:SS \t status \t verify \t workcode [\t reserved …]`,
 * 5 to 11 fields (only the first four matter). The time is read in `timeZone` (see `wallClockToInstant`).
 */
export function parseAttlogLine(line: string, timeZone: string, receivedAt: Date): AttlogLine {
  const fields = line.split('\t').map((f) => f.trim());
  if (fields.length < 5 || fields.length > 11) return { ok: false, code: 'malformed_row' };
  const [pin, time, statusText, verifyText] = fields;
  if (!PIN.test(pin)) return { ok: false, code: 'malformed_row' };
  const occurredAt = wallClockToInstant(time, timeZone);
  if (!occurredAt) return { ok: false, code: 'invalid_timestamp' };
  if (occurredAt.getTime() - receivedAt.getTime() > MAX_FUTURE_SKEW_MS) return { ok: false, code: 'in_future' };
  // An empty status is what terminals without in/out keys often send: a plain punch.
  const status = statusText === '' ? 255 : /^\d{1,3}$/.test(statusText) ? Number(statusText) : NaN;
  if (!Number.isInteger(status) || status > 255) return { ok: false, code: 'invalid_type' };
  const verify = /^\d{1,4}$/.test(verifyText) ? Number(verifyText) : null;
  return { ok: true, punch: { pin, localTime: time, occurredAt, status, type: typeOfStatus(status), verify } };
}

/**
 * A wall-clock time without a zone, read in `timeZone`. Null when it is not a real calendar time.
 * DST gap (the clock jumped, e.g. 02:30 on a spring-forward night does not exist): read with the
 * offset in force before the jump, so 02:30 is the instant the clock would have shown had it not
 * moved (= 03:30 new time) — the terminal's clock that had not been set forward yet.
 * DST overlap (e.g. 02:30 happens twice on a fall-back night): the first occurrence, the earlier
 * instant. Both readings are deterministic, so a punch sent again maps to the same instant.
 */
export function wallClockToInstant(text: string, timeZone: string): Date | null {
  const m = LOCAL_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(wall);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day
    || hour > 23 || minute > 59 || second > 59 || year < 2000 || year > 2999) return null;
  const offsetAt = (ms: number) => DateTime.fromMillis(ms, { zone: timeZone }).offset * 60_000;
  const before = offsetAt(wall - 86_400_000);
  const after = offsetAt(wall + 86_400_000);
  const candidates = [...new Set([before, after])]
    .map((off) => wall - off)
    .filter((instant) => offsetAt(instant) + instant === wall)
    .sort((a, b) => a - b);
  // No candidate: a gap; read with the offset before it.
  return new Date(candidates[0] ?? wall - before);
}

/** The timezone's UTC offset in hours now (docs/protocol/push.md §3 `TimeZone=`), e.g. 1, 5.5, -3. */
export function utcOffsetHours(timeZone: string, at: Date): number {
  return DateTime.fromJSDate(at, { zone: timeZone }).offset / 60;
}

/**
 * `key=value` pairs separated by commas, newlines or tabs (options uploads, INFO answers);
 * a leading `~` is kept in the key (`~DeviceName`). Keys are capped and values trimmed.
 */
export function parseOptions(body: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of body.split(/[,\r\n\t]+/)) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    if (!/^~?[A-Za-z0-9_.]{1,64}$/.test(key)) continue;
    out[key] = part.slice(eq + 1).trim().slice(0, 256);
  }
  return out;
}

export interface CommandResult {
  id: number;
  returnCode: number;
  cmd: string | null;
  /** A shell result's output, which may span several lines. */
  content: string | null;
}

/**
 * A devicecmd body: one `ID=<id>&Return=<code>&CMD=<word>` per line; a shell result carries
 * `Content=` whose text runs on over the following lines until the next `ID=` line.
 * Lines that name no numeric id are skipped (counted by the caller through the result count).
 */
export function parseCommandResults(body: string): CommandResult[] {
  const results: CommandResult[] = [];
  let current: CommandResult | null = null;
  for (const line of body.split(/\r\n|\n|\r/)) {
    if (/^ID=/i.test(line)) {
      const params = new URLSearchParams(line.replace(/^ID=/i, 'ID='));
      const contentAt = line.search(/&Content=/i);
      const id = Number(params.get('ID'));
      const code = Number(params.get('Return'));
      current = null;
      if (!Number.isSafeInteger(id) || id <= 0 || !Number.isInteger(code)) continue;
      current = { id, returnCode: code, cmd: params.get('CMD'), content: contentAt >= 0 ? line.slice(contentAt + '&Content='.length) : null };
      results.push(current);
    } else if (current && current.content !== null) {
      current.content += `\n${line}`;
    }
  }
  for (const r of results) if (r.content !== null) r.content = r.content.replace(/\n+$/, '').slice(0, 64 * 1024);
  return results;
}

export interface TerminalUser {
  pin: string;
  name: string | null;
  privilege: string | null;
  card: string | null;
}

export type OperlogLine = { kind: 'user'; user: TerminalUser } | { kind: 'fingerprint'; pin: string } | { kind: 'other' };

/** One OPERLOG line: `USER PIN=…\tName=…\tPri=…\tCard=…`, `FP PIN=…`, `OPLOG …`, `BIOPHOTO PIN=…` … */
export function parseOperlogLine(line: string): OperlogLine {
  const match = /^(USER|FP|BIODATA|BIOPHOTO|OPLOG|USERPIC)\s+(.*)$/.exec(line.trim());
  if (!match) return { kind: 'other' };
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of match[2].split('\t')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const pin = fields.PIN ?? fields.Pin;
  if (match[1] === 'USER' && pin && PIN.test(pin)) {
    return { kind: 'user', user: { pin, name: fields.Name?.slice(0, 200) || null, privilege: fields.Pri ?? null, card: fields.Card || null } };
  }
  if ((match[1] === 'FP' || match[1] === 'BIODATA') && pin && PIN.test(pin)) return { kind: 'fingerprint', pin };
  return { kind: 'other' };
}

/** `DATA UPDATE USERINFO` field values may hold no tab or line break (they separate fields and commands). */
export function commandField(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ').trim();
}

/** docs/protocol/push.md §5 roster commands. */
export function userUpdate(user: { badge: string; name: string }): string {
  return `DATA UPDATE USERINFO PIN=${commandField(user.badge)}\tName=${commandField(user.name)}\tPri=0`;
}

export function userDelete(user: { badge: string }): string {
  return `DATA DELETE USERINFO PIN=${commandField(user.badge)}`;
}

// The PUSH (iclock) wire format (docs/protocol/push.md): serial numbers, ATTLOG lines, key=value
// option lists, devicecmd results, OPERLOG user records, and the terminal's wall clock read in
// its timezone. Pure functions; the api and the worker both use them.
import { DateTime } from 'luxon';
import { MAX_FUTURE_SKEW_MS, TEMPERATURE_MAX, TEMPERATURE_MIN, type RowRejectionCode } from './codes.js';

/** docs/protocol/push.md §1: 1–64 characters A-Z a-z 0-9, case-sensitive. */
export const SERIAL_NUMBER = /^[A-Za-z0-9]{1,64}$/;

/** A PUSH upload body above this is refused with 413: a real terminal's batch is a few tens of KiB. */
export const PUSH_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The session channel a PUSH ATTLOG upload is stored under (sync_sessions.channel). */
export const PUSH_SESSION_CHANNEL = 'push';
/** The file name an ATTLOG batch is reported under (session stats, rejections). */
export const ATTLOG_FILE = 'ATTLOG';
/** The file name a Security PUSH 3.x rtlog batch is reported under. */
export const RTLOG_FILE = 'rtlog';

/** A PIN is the user's badge: printable, no tabs or control characters. */
const PIN = /^[^\x00-\x1f\x7f]{1,64}$/;
const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function isSerialNumber(value: unknown): value is string {
  return typeof value === 'string' && SERIAL_NUMBER.test(value);
}

/**
 * A body as text: UTF-8, with U+0000 read as U+FFFD. PostgreSQL's text holds no NUL, and a
 * terminal answered 500 for one keeps resending the same body forever (found by the fuzz suite:
 * an OPERLOG line with a NUL in a name).
 */
export function pushText(body: Buffer): string {
  const text = body.toString('utf8');
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
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
  /** °C, measured by the terminal (rtlog `temperature`); null when not measured. */
  temperature: number | null;
}

/** docs/protocol/push.md §4 status: 0 in, 1 out, 2 break-out, 3 break-in, 4 overtime-in, 5 overtime-out; others (255 …) "punch". */
export function typeOfStatus(status: number): PunchType | null {
  if (status === 0 || status === 3 || status === 4) return 'checkin';
  if (status === 1 || status === 2 || status === 5) return 'checkout';
  return null;
}

/** A line refused as `in_future` carries its punch: the server holds it (docs/protocol/push.md §4 "held punches"). */
export type AttlogLine = { ok: true; punch: AttlogPunch } | { ok: false; code: RowRejectionCode; punch?: AttlogPunch };

/**
 * One ATTLOG line (docs/protocol/push.md §4): `PIN \t YYYY-MM-DD HH:MM:SS [\t status [\t verify [\t workcode \t reserved …]]]`.
 * Only PIN and time are required: firmware send 2 to 13 fields, and a terminal deletes every line
 * it was answered `OK` for, so a line refused for its field count would be lost for good. A missing
 * or empty status is 255 ("punch"), a missing verify unknown, fields past the fourth are ignored.
 * Some firmware write the same record as `key=value` pairs (`PIN=…\tDateTime=…\tStatus=…`): such a
 * line is read by its keys (`parseKeyedPunch`). The time is read in `timeZone` (`wallClockToInstant`).
 */
export function parseAttlogLine(line: string, timeZone: string, receivedAt: Date): AttlogLine {
  const fields = line.split('\t').map((f) => f.trim());
  if (KEYED_FIELD.test(fields[0])) return parseKeyedPunch(keyedFields(fields), timeZone, receivedAt) ?? { ok: false, code: 'malformed_row' };
  if (fields.length < 2) return { ok: false, code: 'malformed_row' };
  const [pin, time, statusText = '', verifyText = ''] = fields;
  return readPunch({ pin, time, statusText, verifyText, temperature: null }, timeZone, receivedAt);
}

/** A field `key=value` whose key is a word: a keyed record, not a PIN (PINs are the users' badges). */
const KEYED_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,31}=/;

/** `key=value` fields by lower-case key (the last one wins). */
function keyedFields(fields: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields) {
    const eq = f.indexOf('=');
    if (eq > 0) out.set(f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1).trim());
  }
  return out;
}

/**
 * A record written as `key=value` pairs: an rtlog event (`time`, `pin`, `inoutstatus`,
 * `verifytype`, `temperature`) or a keyed ATTLOG line (`DateTime`, `PIN`, `Status`, `Verify`).
 * Null when it names no user (`pin` absent, empty or 0: a door, alarm or unregistered-person event).
 */
function parseKeyedPunch(keys: Map<string, string>, timeZone: string, receivedAt: Date): AttlogLine | null {
  const pin = keys.get('pin') ?? '';
  if (pin === '' || pin === '0') return null;
  return readPunch({
    pin,
    time: keys.get('time') ?? keys.get('datetime') ?? '',
    statusText: keys.get('inoutstatus') ?? keys.get('status') ?? '',
    verifyText: keys.get('verifytype') ?? keys.get('verify') ?? keys.get('verified') ?? '',
    temperature: readTemperature(keys.get('temperature')),
  }, timeZone, receivedAt);
}

/**
 * A terminal's body temperature, °C. `0`, `255`, an empty or unreadable value, or one outside
 * TEMPERATURE_MIN..TEMPERATURE_MAX mean "not measured" (terminals without a sensor send 0 or 255):
 * the punch is kept without a temperature rather than refused for it.
 */
export function readTemperature(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,3}(\.\d{1,2})?$/.test(text)) return null;
  const value = Number(text);
  return value >= TEMPERATURE_MIN && value <= TEMPERATURE_MAX ? value : null;
}

function readPunch(f: { pin: string; time: string; statusText: string; verifyText: string; temperature: number | null }, timeZone: string, receivedAt: Date): AttlogLine {
  if (!PIN.test(f.pin)) return { ok: false, code: 'malformed_row' };
  const occurredAt = wallClockToInstant(f.time, timeZone);
  if (!occurredAt) return { ok: false, code: 'invalid_timestamp' };
  const future = occurredAt.getTime() - receivedAt.getTime() > MAX_FUTURE_SKEW_MS;
  // An empty status is what terminals without in/out keys often send: a plain punch.
  const status = f.statusText === '' ? 255 : /^\d{1,3}$/.test(f.statusText) ? Number(f.statusText) : NaN;
  if (!future && (!Number.isInteger(status) || status > 255)) return { ok: false, code: 'invalid_type' };
  const verify = /^\d{1,4}$/.test(f.verifyText) ? Number(f.verifyText) : null;
  const punch = () => ({ pin: f.pin, localTime: f.time, occurredAt, status, type: typeOfStatus(status), verify, temperature: f.temperature });
  // in_future comes before invalid_type (the first failure decides); only a punch with a readable status is held.
  if (future) return Number.isInteger(status) && status <= 255 ? { ok: false, code: 'in_future', punch: punch() } : { ok: false, code: 'in_future' };
  return { ok: true, punch: punch() };
}

/**
 * One rtlog line (docs/protocol/push.md §4, Security PUSH 3.x): `time=…\tpin=…\tcardno=…\teventaddr=…\tevent=…\t
 * inoutstatus=…\tverifytype=…\tindex=…[\tmaskflag=…\ttemperature=…\tconvtemperature=…]`. An event
 * with a pin is a punch read like an ATTLOG line (inoutstatus as its status); an event without
 * one (door, alarm, unregistered person) is `null`: not a punch, kept in the session's archive.
 */
export function parseRtlogLine(line: string, timeZone: string, receivedAt: Date): AttlogLine | null {
  const fields = line.split('\t').map((f) => f.trim());
  if (!fields.some((f) => KEYED_FIELD.test(f))) return { ok: false, code: 'malformed_row' };
  return parseKeyedPunch(keyedFields(fields), timeZone, receivedAt);
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

/**
 * The timezone's UTC offset at `at` as docs/protocol/push.md §3 `TimeZone=` writes it: an integer, whole hours
 * (1, -5) or, when the offset is not whole hours, minutes (330 for UTC+5:30, 345 for UTC+5:45,
 * -210 for UTC-3:30) — firmware reads an integer, and `5.5` is not one. `minutes` is the offset
 * itself (what the server remembers having sent, to send it again at a DST change).
 */
export function pushTimeZone(timeZone: string, at: Date): { minutes: number; option: number } {
  const minutes = DateTime.fromJSDate(at, { zone: timeZone }).offset;
  return { minutes, option: minutes % 60 === 0 ? minutes / 60 : minutes };
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
  /** Null: the terminal named no Return, which is no success (docs/protocol/push.md §5). */
  returnCode: number | null;
  cmd: string | null;
  /** What followed the result: a shell's output, an INFO answer's `key=value` settings … */
  content: string | null;
}

/**
 * A devicecmd body (docs/protocol/push.md §5): one result per `ID=<id>&Return=<code>&CMD=<word>` line, and
 * results as the vendor writes them beyond that. A result runs from its `ID=` line to the next
 * one: `Return=` and `CMD=` may each come on a line of their own (PutFile, Shell, GetFile), the
 * first of each is the result's;
 * `Content=` (on the ID line or its own) starts the content; any other line is content too —
 * INFO answers its settings on the lines after its result line. A result that names no numeric
 * id is skipped (the caller counts results); one without a Return keeps `returnCode` null.
 */
export function parseCommandResults(body: string): CommandResult[] {
  const results: Array<CommandResult & { lines: string[] }> = [];
  let current: (CommandResult & { lines: string[] }) | null = null;
  for (const line of body.split(/\r\n|\n|\r/)) {
    if (/^ID=/i.test(line)) {
      current = null;
      const contentAt = line.search(/&Content=/i);
      const params = new URLSearchParams(contentAt >= 0 ? line.slice(0, contentAt) : line);
      const id = Number(params.get('ID') ?? params.get('id'));
      if (!Number.isSafeInteger(id) || id <= 0) continue;
      current = { id, returnCode: returnCodeOf(params.get('Return') ?? params.get('return')), cmd: params.get('CMD') ?? params.get('cmd'), content: null, lines: [] };
      if (contentAt >= 0) current.lines.push(line.slice(contentAt + '&Content='.length));
      results.push(current);
    } else if (current) {
      // Return and CMD on lines of their own (other header lines, SN= or FILENAME=, may come between).
      const field = /^(Return|CMD)=(.*)$/i.exec(line);
      if (field && field[1].toLowerCase() === 'return' && current.returnCode === null) current.returnCode = returnCodeOf(field[2]);
      else if (field && field[1].toLowerCase() === 'cmd' && current.cmd === null) current.cmd = field[2].trim();
      else if (current.lines.length === 0 && /^Content=/i.test(line)) current.lines.push(line.slice('Content='.length));
      else current.lines.push(line);
    }
  }
  return results.map(({ lines, ...r }) => {
    const content = lines.join('\n').replace(/\n+$/, '').slice(0, 64 * 1024);
    return { ...r, content: content === '' ? null : content };
  });
}

function returnCodeOf(text: string | null): number | null {
  return text !== null && /^\s*-?\d{1,10}\s*$/.test(text) ? Number(text) : null;
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

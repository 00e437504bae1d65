// The device protocol reference (docs/protocol/*.md) against the code. Every example block and
// every marked table is derived again here from fixtures/ and from the project's own readers and
// builders, so a page that drifts from the code fails (docs/protocol/README.md "Examples are
// tested"). Pure: no database, no server.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { flagCommandLines, PUSH_COMMANDS, timeZoneCommands, userDelete, userUpdate } from '../../../shared/protocol/push-commands.js';
import { wantedFiles } from '../../../api/sync/manifest.js';
import { MAX_STATUS_WAIT_SECONDS } from '../../../api/context/status-waits.js';
import { REALTIME_WINDOW_SECONDS } from '../../../channels/push/import-attlog.js';
import { CHANNELS, CHANNEL_UPLOADS } from '../../../channels/registry.js';
import { emptyParts, type PackageParts } from '../../../channels/kit/context.js';
import { flagInstructions } from '../../../channels/kit/flags.js';
import type { DeviceFlag } from '../../../db/schema/index.js';
import { assemblePackage } from '../../../worker/import/assemble-package.js';
import { recordConflictDetail, unknownUserDetail } from '../../../channels/kit/csv-log.js';
import { buildZip } from '../../../shared/archive/build-zip.js';
import { archiveLimits, inspectArchive } from '../../../shared/archive/inspect-archive.js';
import { envToConfig, readEnv } from '../../../shared/config.js';
import { ATTENDANCE_COLUMNS, validateAttendanceRow, type AttendanceRow } from '../../../shared/csv/attendance-row.js';
import { readCsvRecords } from '../../../shared/csv/csv-records.js';
import { MAX_MESSAGE_BODY_LENGTH, MESSAGE_COLUMNS, validateMessageRow } from '../../../shared/csv/message-row.js';
import { readCsvLog, type CsvLogSpec } from '../../../shared/csv/read-csv-log.js';
import { MAX_SENSOR_LENGTH, READING_COLUMNS, validateReadingRow } from '../../../shared/csv/reading-row.js';
import { buildRosterCsv, ROSTER_COLUMNS } from '../../../shared/csv/roster-csv.js';
import { MAX_USER_ID, parseRecordId } from '../../../shared/csv/row-fields.js';
import { Problem, PROBLEMS, type ProblemCode } from '../../../shared/errors.js';
import { MAX_PHOTO_BYTES, MAX_PHOTO_SIDE } from '../../../shared/image/image-info.js';
import { CHANNEL_NAMES, isPhotoName, type ChannelName } from '../../../shared/protocol/channels.js';
import { MARK_COLUMNS, validateMarkRow } from '../../../shared/csv/mark-row.js';
import {
  CLOCK_REPORT_SKEW_SECONDS, CLOCK_SUSPECT_SKEW_SECONDS, EARLIEST_ROW_TIME, FILE_ERROR_CODES, MAX_FUTURE_SKEW_MS, ROW_REJECTION_CODES,
  SYNC_STATUS, TEMPERATURE_MAX, TEMPERATURE_MIN, type FileErrorCode, type RowRejectionCode,
} from '../../../shared/protocol/codes.js';
import { isFileError } from '../../../shared/protocol/file-error.js';
import { FLAG_NAMES, KNOWN_FLAGS, SERVER_SIDE_FLAGS } from '../../../shared/protocol/flags.js';
import type { FeverAlert, InstructionPackage, OfficeMessage, PhotoReport, RowRejection } from '../../../shared/protocol/instruction-package.js';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../../shared/protocol/iso-timestamp.js';
import {
  parseAttlogLine, parseCommandResults, parseOptions, parseRtlogLine, pushTimeZone, typeOfStatus,
} from '../../../shared/protocol/push.js';
import { RESEND_WINDOW_DAYS, resendWindow } from '../../../shared/protocol/resend.js';
import { parseDeviceXml } from '../../../shared/xml/device-xml.js';
import { buildInstructionsXml } from '../../../shared/xml/instructions-xml.js';
import { parseSafeXml, type XmlElement } from '../../../shared/xml/safe-xml.js';
import { MAX_SETTING_VALUE_LENGTH, MAX_SETTINGS } from '../../../shared/protocol/settings.js';
import { parseSettingsXml } from '../../../shared/xml/settings-xml.js';
import { VERSION } from '../../../shared/version.js';
import { codeOf, codeSpans, markerArgs, readDocPage, type MarkedBlock } from './marked-blocks.js';

const ROOT = new URL('../../../', import.meta.url);
const PAGES = ['docs/protocol/README.md', 'docs/protocol/v4.md', 'docs/protocol/push.md'];
const pages = PAGES.map((p) => ({ label: p, ...readDocPage(new URL(p, ROOT), p) }));
const blocks = pages.flatMap((p) => p.blocks);
const config = envToConfig(readEnv({}));
const LIMITS = archiveLimits(config);

/** fixtures/README.md: the rows use user ids 1–5, the demo school's first five users; no other id names a user. */
const DEMO_SCHOOL_USERS = new Set([1, 2, 3, 4, 5]);
/** The members GET /v4/C/manifest may carry (api/routes/sync.ts's response schema). */
const MANIFEST_MEMBERS = ['files', 'high_water_marks', 'max_archive_bytes', 'server_time', 'resend', 'photos_wanted'];

/** The marker id without its `key=value` words: what selects the check. */
const baseId = (id: string) => id.split(' ').filter((w) => !w.includes('=')).join(' ');
/** The one block whose marker is `base` (with any key=value words): its text and those words. */
const textOf = (base: string) => {
  const found = blocks.filter((b) => baseId(b.id) === base);
  if (found.length !== 1) throw new Error(`expected one block marked "${base}", found ${found.length}`);
  return { text: found[0].text!, args: markerArgs(found[0].id) };
};
const fixture = (name: string) => readFileSync(new URL(name, ROOT));
const lf = (text: string) => text.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n').replace(/\n+$/, '');
const tabs = (text: string) => text.replace(/\\t/g, '\t').replace(/⇥/g, '\t');
const json = (b: MarkedBlock) => JSON.parse(b.text!) as Record<string, unknown>;
const rows = (b: MarkedBlock) => b.rows!;
const column = (b: MarkedBlock, i = 0) => rows(b).map((r) => codeOf(r[i]));

function synchroArchive(name: string) {
  return inspectArchive(fixture(name), { channel: CHANNEL_UPLOADS.synchro, required: [], limits: LIMITS });
}

// ---- instructions.xml read back into the builder's input ----

function attr(el: XmlElement, name: string): string | undefined {
  return el.attributes.get(name);
}
function num(el: XmlElement, name: string): number {
  return Number(attr(el, name));
}
function date(el: XmlElement, name: string): Date {
  return parseIsoTimestamp(attr(el, name)!)!;
}

/** The InstructionPackage an instructions.xml describes: buildInstructionsXml of it must give the same text. */
function readPackage(xml: string): Required<Pick<InstructionPackage, 'sessionId' | 'generatedAt'>> & InstructionPackage & { out: PackageParts } {
  const root = parseSafeXml(xml);
  expect(root.name).toBe('instructions');
  const out = emptyParts();
  const children = (name: string) => root.children.filter((c) => c.name === name);
  for (const el of children('import')) {
    out.imports.set(attr(el, 'file')!, { received: num(el, 'received'), accepted: num(el, 'accepted'), duplicates: num(el, 'duplicates'), rejected: num(el, 'rejected'), high_water_mark: num(el, 'high_water_mark') });
  }
  out.rejections = children('rejection').map((el): RowRejection => ({
    file: attr(el, 'file')!, line: num(el, 'line'), recordId: attr(el, 'record_id') === undefined ? null : num(el, 'record_id'), code: attr(el, 'code') as RowRejectionCode,
    detail: attr(el, 'detail') ?? null,
  }));
  out.errors = children('error').map((el) => ({ file: attr(el, 'file') ?? null, code: attr(el, 'code') as FileErrorCode, detail: attr(el, 'detail') ?? null, retry: attr(el, 'retry') === 'true' }));
  const roster = children('roster')[0];
  out.roster = roster ? { version: num(roster, 'version'), mode: attr(roster, 'mode') as 'delta' | 'full', file: attr(roster, 'file')! } : null;
  const settings = children('settings')[0];
  out.settings = settings ? Object.fromEntries(settings.children.map((c) => [c.name, c.text])) : null;
  out.flags = children('flag').map((el) => ({
    id: num(el, 'id'), name: attr(el, 'name')!, params: Object.fromEntries([...el.attributes].filter(([k]) => k !== 'id' && k !== 'name')),
  }));
  out.alerts = children('alert').map((el): FeverAlert => ({
    kind: 'fever', recordId: attr(el, 'record_id') === undefined ? null : num(el, 'record_id'), userId: attr(el, 'user_id') === undefined ? null : num(el, 'user_id'),
    temperature: num(el, 'temperature'), measuredAt: date(el, 'measured_at'),
  }));
  out.messages = children('message').map((el): OfficeMessage => ({
    id: num(el, 'id'), priority: attr(el, 'priority') as 'normal' | 'high', createdAt: date(el, 'created_at'),
    expiresAt: attr(el, 'expires_at') === undefined ? null : date(el, 'expires_at'), text: el.text,
  }));
  out.photos = children('photo').map((el): PhotoReport => (attr(el, 'stored') === 'true'
    ? { name: attr(el, 'name')!, sha256: attr(el, 'sha256')!, stored: true }
    : { name: attr(el, 'name')!, code: attr(el, 'code') as 'not_an_image' | 'too_large' }));
  const clock = children('clock')[0];
  const sessionId = attr(root, 'session_id')!;
  const generatedAt = date(root, 'generated_at');
  const skewSeconds = clock ? num(clock, 'skew_seconds') : null;
  return { ...assemblePackage({ sessionId, now: generatedAt, skewSeconds, out }), sessionId, generatedAt, out };
}

/** The package the server writes for `out` (worker/import/assemble-package.ts, then the XML builder). */
function written(sessionId: string, now: Date, skewSeconds: number | null, out: PackageParts): string {
  return buildInstructionsXml(assemblePackage({ sessionId, now, skewSeconds, out })).trimEnd();
}

/**
 * What the import makes of a fixture's attendances.csv, as channels/kit/csv-log.ts does it: rows
 * rejected by their own values as they are read, then, per chunk (one here), the unknown users
 * and the conflicts found against what is held; a row held already with the same content is a
 * duplicate. The database side (users, rows held) is the demo school and an empty device.
 * test/sync/import.test.ts runs the real import on the same fixtures.
 */
async function importOf(zip: string, receivedAt: Date) {
  const archive = synchroArchive(zip);
  const stats = { received: 0, accepted: 0, duplicates: 0, rejected: 0, high_water_mark: 0 };
  const read: RowRejection[] = [];
  const unknown: RowRejection[] = [];
  const conflicts: RowRejection[] = [];
  const held = new Map<number, AttendanceRow>();
  const file = 'attendances.csv';
  for await (const row of readCsvLog(archive.read(file), ATTENDANCE_COLUMNS)) {
    stats.received++;
    if (row.malformed) {
      read.push({ file, line: row.line, recordId: null, code: 'malformed_row', detail: row.reason });
      continue;
    }
    const checked = validateAttendanceRow(row.fields, { receivedAt });
    if (!checked.ok) {
      read.push({ file, line: row.line, recordId: checked.recordId ?? null, code: checked.code, detail: checked.detail });
      continue;
    }
    const r = checked.row;
    if (!DEMO_SCHOOL_USERS.has(r.userId)) {
      unknown.push({ file, line: row.line, recordId: r.recordId, code: 'unknown_user', detail: unknownUserDetail(r.userId) });
      continue;
    }
    stats.high_water_mark = Math.max(stats.high_water_mark, r.recordId);
    const before = held.get(r.recordId);
    if (!before) {
      held.set(r.recordId, r);
      stats.accepted++;
    } else if (before.userId === r.userId && before.type === r.type && before.occurredAt.getTime() === r.occurredAt.getTime()) {
      stats.duplicates++;
    } else {
      conflicts.push({ file, line: row.line, recordId: r.recordId, code: 'record_conflict', detail: recordConflictDetail(r.recordId) });
    }
  }
  const rejections = [...read, ...unknown, ...conflicts];
  stats.rejected = rejections.length;
  return { stats, rejections, device: parseDeviceXml(archive.read('device.xml')) };
}

async function csvRows(text: string, spec: CsvLogSpec) {
  const out: Array<Record<string, string>> = [];
  for await (const row of readCsvLog(Buffer.from(text), spec)) {
    if (row.malformed) throw new Error(`line ${row.line} is malformed: ${row.reason}`);
    out.push(row.fields);
  }
  return out;
}

function problemOf(fn: () => unknown): Problem {
  try {
    fn();
  } catch (err) {
    if (err instanceof Problem) return err;
    throw err;
  }
  throw new Error('expected a Problem');
}

/** The largest n for which `ok(n)` holds, checked at `n` and `n + 1`. */
function largest(n: number, ok: (n: number) => boolean): number {
  expect([ok(n), ok(n + 1)]).toEqual([true, false]);
  return n;
}

async function largestAsync(n: number, ok: (n: number) => Promise<boolean>): Promise<number> {
  expect([await ok(n), await ok(n + 1)]).toEqual([true, false]);
  return n;
}

const fileOk = (fn: () => unknown) => {
  try {
    fn();
    return true;
  } catch (err) {
    if (isFileError(err)) return false;
    throw err;
  }
};

// ---- the checks, by marker id (without its key=value words) ----

type Check = (b: MarkedBlock, args: Record<string, string>) => void | Promise<void>;

const source = (file: string) => readFileSync(new URL(file, ROOT), 'utf8');
/** Every module of the /iclock routes (api/push/*.ts), for what any of them may say. */
const pushSource = readdirSync(new URL('api/push/', ROOT)).filter((f) => f.endsWith('.ts')).sort().map((f) => source(`api/push/${f}`)).join('\n');
/** The text of `file` from `from` up to the next `to`: a check that the code still does what a page says. */
function regionOf(file: string, from: string, to: string): string {
  const text = source(file);
  const start = text.indexOf(from);
  const end = text.indexOf(to, start + from.length);
  if (start < 0 || end < 0) throw new Error(`${file} no longer has "${from}" … "${to}": update this test and docs/protocol/push.md`);
  return text.slice(start, end);
}
/** docs/protocol/push.md as a whole, for the numbers its prose states. */
const pushPage = source('docs/protocol/push.md');

const AT = new Date('2026-11-20T12:00:00Z');
const ALICE = { badge: 'B0001', name: 'Alice Martin', active: true };
const EMMA = { badge: 'B0005', name: 'Emma Dubois', active: false };

/** The commands a flag becomes on a PUSH terminal in Europe/Paris at AT (shared/protocol/push-commands.ts). */
async function commandsOf(name: string, params: Record<string, unknown> = {}): Promise<string[]> {
  return flagCommandLines({ name, params }, { timeZone: 'Europe/Paris', now: AT, roster: [ALICE, EMMA] }) ?? [];
}

/** How db/repositories/push/commands.ts recordCommandResults records a devicecmd result: its status, and its failure (no Return, or a negative one). */
const RESULT_STATUS_SQL = "status = CASE WHEN r.code >= 0 THEN 'succeeded' ELSE 'failed' END";
const RESULT_FAILURE_SQL = "failure = CASE WHEN r.code IS NULL THEN 'terminal answered without a Return code' WHEN r.code < 0 THEN 'terminal answered ' || r.code END";

/**
 * Known differences from the PUSH contract (push.md §8) that the code shows: true while the
 * difference is there. A gap fixed makes its check false, and the test asks for the page.
 */
const PUSH_GAPS: Record<string, () => boolean | Promise<boolean>> = {
  // The windows start at midnight UTC of `since`: 02:00 on a Paris terminal in September.
  'resend-since-day': async () => (await commandsOf('RESEND_SINCE', { since: '2026-09-01' }))[0]?.startsWith('DATA QUERY ATTLOG StartTime=2026-09-01 02:00:00\t') ?? false,
  // The 2.x syntax for every terminal (flagCommandLines is not told the firmware), and a 3.x querydata answer kept as an upload.
  'push3-data-query': async () => (await commandsOf('FULL_RESYNC'))[0]?.startsWith('DATA QUERY ATTLOG ') === true
    && (PUSH_COMMANDS as readonly string[]).includes('DATA QUERY USERINFO')
    && regionOf('api/push/querydata.ts', 'const harmless', 'export function queryDataRoutes').includes('table: `querydata${'),
  'tabledata-answer': () => regionOf('api/push/upload.ts', 'const acceptOther', 'const acceptPunches').includes('return new PushAnswer(200, `${tablename}=${count}`);'),
};

const checks: Record<string, Check> = {
  // v4 §1
  'token-request': (b) => {
    const body = JSON.parse(b.text!.slice(b.text!.indexOf('{'))) as Record<string, unknown>;
    expect(b.text!.split('\n')[0]).toBe('POST /v4/auth/token');
    expect(Object.keys(body)).toEqual(['device_id', 'secret']);
  },
  'token-response': (b) => {
    expect(json(b)).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: config.deviceTokenTtlSeconds });
  },
  // v4 §3
  status: (b) => {
    const s = json(b);
    expect(Object.keys(s)).toEqual(['status', 'session_id', 'changed_at']);
    expect(Object.values(SYNC_STATUS)).toContain(s.status);
    expect(parseIsoTimestamp(s.changed_at as string)).not.toBeNull();
  },
  'manifest synchro': (b, args) => manifest(b, 'synchro', args),
  'manifest photos': async (b, args) => {
    manifest(b, 'photos', args);
    // "After valid-small.zip": the photo names its rows refer to.
    const names = (await csvRows(synchroArchive('fixtures/archives/valid-small.zip').read('attendances.csv').toString('utf8'), ATTENDANCE_COLUMNS))
      .map((r) => r.photo).filter((p) => p !== '');
    expect(json(b).photos_wanted).toEqual(names);
  },
  'upload-accepted': (b) => {
    expect(json(b)).toEqual({ session_id: expect.any(String), status: SYNC_STATUS.processing });
  },
  ack: (b) => expect(json(b)).toEqual({ status: SYNC_STATUS.idle }),
  'problem fixtures/archives/missing-device-xml.zip': (b) => problemExample(b, 'fixtures/archives/missing-device-xml.zip'),
  'problem fixtures/archives/traversal.zip': (b) => problemExample(b, 'fixtures/archives/traversal.zip'),
  'problem sync_in_progress': (b) => {
    const doc = json(b);
    // The channel's status (1 or 2) in `status`, over RFC 9457's HTTP status: what api/sync/accept-upload.ts writes.
    expect(PROBLEMS.sync_in_progress.status).toBe(409);
    expect([SYNC_STATUS.processing, SYNC_STATUS.ready]).toContain(doc.status);
    expect(new Problem('sync_in_progress', doc.detail as string, { status: doc.status, session_id: doc.session_id }).toJSON()).toEqual(doc);
    expect(readFileSync(new URL('api/sync/accept-upload.ts', ROOT), 'utf8')).toContain(`'${doc.detail as string}', { status, session_id: sessionId }`);
  },
  'http-codes': (b) => {
    const codes = column(b, 1);
    for (const r of rows(b)) expect([codeOf(r[1]), PROBLEMS[codeOf(r[1]) as ProblemCode]?.status]).toEqual([codeOf(r[1]), Number(r[0])]);
    // shared/errors.ts lists the device protocol's codes first, up to unknown_channel: each is documented.
    const keys = Object.keys(PROBLEMS);
    expect(codes).toEqual(expect.arrayContaining(keys.slice(0, keys.indexOf('unknown_channel') + 1)));
    expect(new Set(codes).size).toBe(codes.length);
  },
  channels: (b) => {
    expect(column(b)).toEqual([...CHANNEL_NAMES]);
    for (const r of rows(b)) {
      const upload = CHANNELS[codeOf(r[0]) as ChannelName].upload;
      expect([codeSpans(r[1]), codeSpans(r[2])]).toEqual([[...upload.xmlFiles], [...upload.csvLogs]]);
      expect(codeSpans(r[3])).toEqual(upload.extraEntry ? ['photos/<name>'] : []);
      if (upload.extraEntry) expect(upload.extraEntry.test('photos/p0001.jpg')).toBe(true);
    }
  },
  // v4 §4
  fixture: (b) => {
    const [, zip, entry] = b.id.split(' ');
    expect(b.text).toBe(lf(synchroArchive(zip).read(entry).toString('utf8')));
  },
  'fields device.xml': (b) => {
    const xml = `<device>${rows(b).map((r) => `<${codeOf(r[0])}>${codeOf(r[3])}</${codeOf(r[0])}>`).join('')}</device>`;
    const report = parseDeviceXml(xml);
    expect(Object.values(report).every((v) => v !== null)).toBe(true);
    expect(rows(b)).toHaveLength(Object.keys(report).length);
  },
  'settings.xml invalid': (b) => {
    expect(fileOk(() => parseSettingsXml(b.text!))).toBe(false);
  },
  'columns attendances.csv': (b) => columns(b, ATTENDANCE_COLUMNS, (f) => validateAttendanceRow(f, { receivedAt: AT }).ok),
  'columns readings.csv': (b) => columns(b, READING_COLUMNS, (f) => validateReadingRow(f, { receivedAt: AT }).ok),
  'columns messages.csv': (b) => columns(b, MESSAGE_COLUMNS, (f) => validateMessageRow(f, { receivedAt: AT }).ok),
  'columns marks.csv': (b) => columns(b, MARK_COLUMNS, (f) => validateMarkRow(f, { receivedAt: AT }).ok),
  'columns roster.csv': (b) => columns(b, { required: ROSTER_COLUMNS, optional: [] }),
  'row-rejection-codes': (b) => expect(column(b)).toEqual([...ROW_REJECTION_CODES]),
  'file-error-codes': (b) => expect(column(b)).toEqual([...FILE_ERROR_CODES]),
  'readings.csv': async (b, args) => {
    for (const f of await csvRows(b.text!, READING_COLUMNS)) expect(validateReadingRow(f, { receivedAt: new Date(args.received) })).toMatchObject({ ok: true });
  },
  'messages.csv': async (b, args) => {
    for (const f of await csvRows(b.text!, MESSAGE_COLUMNS)) expect(validateMessageRow(f, { receivedAt: new Date(args.received) })).toMatchObject({ ok: true });
  },
  // v4 §5
  'package-elements': (b) => {
    // Every element the builder can write, with every attribute it can carry.
    const all = buildInstructionsXml({
      sessionId: 's', generatedAt: AT,
      imports: [{ file: 'a.csv', received: 1, accepted: 1, duplicates: 0, rejected: 0, highWaterMark: 1 }],
      rejections: [{ file: 'a.csv', line: 2, recordId: 1, code: 'in_future', detail: 'd' }],
      errors: [{ file: 'a.csv', code: 'csv_invalid', detail: 'd' }, { code: 'processing_failed', retry: true }],
      clock: { serverTime: AT, skewSeconds: 61 }, roster: { version: 1, mode: 'full', file: 'roster.csv' }, settings: { a: '1' },
      flags: [{ id: 1, name: 'RESEND_SINCE', params: { since: '2026-09-01' } }],
      alerts: [{ kind: 'fever', recordId: 1, userId: 1, temperature: 38, measuredAt: AT }],
      messages: [{ id: 1, priority: 'high', createdAt: AT, expiresAt: AT, text: 't' }],
      photos: [{ name: 'p.jpg', sha256: 'a'.repeat(64), stored: true }, { name: 'q.jpg', code: 'too_large' }],
    });
    const attrs = new Map<string, Set<string>>();
    for (const el of parseSafeXml(all).children) {
      const set = attrs.get(el.name) ?? new Set();
      for (const k of el.attributes.keys()) set.add(k);
      attrs.set(el.name, set);
    }
    expect(column(b)).toEqual([...attrs.keys()]);
    for (const r of rows(b)) {
      // Backticked names outside parentheses (those hold values): `stored="true"` names `stored`.
      const documented = codeSpans(r[2].replace(/\([^)]*\)/g, '')).map((s) => s.split('=')[0]).filter((s) => /^[a-z0-9_]+$/.test(s));
      expect([codeOf(r[0]), documented.sort()]).toEqual([codeOf(r[0]), [...attrs.get(codeOf(r[0]))!].sort()]);
    }
  },
  package: async (b, args) => {
    const doc = readPackage(b.text!);
    // Whatever the example, the builder writes exactly this text for what it says.
    expect(buildInstructionsXml(doc).trimEnd()).toBe(b.text);
    const name = b.id.split(' ')[1];
    const check = packageChecks[name];
    if (!check) throw new Error(`${b.where}: no check for package example "${name}"`);
    await check(doc, args, b.text!);
  },
  'roster.csv': async (b) => {
    const records = [];
    for await (const r of readCsvRecords(Buffer.from(b.text!))) {
      if (r.malformed) throw new Error(`roster line ${r.line}: ${r.reason}`);
      records.push(r.fields);
    }
    expect(records[0]).toEqual([...ROSTER_COLUMNS]);
    const csv = buildRosterCsv(records.slice(1).map(([id, name, badge, active]) => ({ userId: Number(id), name, badge: badge === '' ? null : badge, active: active === '1' })));
    expect(csv.split('\r\n').length).toBe(records.length + 1); // CRLF, as v4 §5.5 says
    expect(lf(csv)).toBe(b.text);
  },
  // v4 §6
  flags: (b) => {
    expect(column(b)).toEqual([...FLAG_NAMES]);
    for (const r of rows(b)) {
      const name = codeOf(r[0]) as (typeof FLAG_NAMES)[number];
      expect([name, r[1].replace(/`/g, '')]).toEqual([name, KNOWN_FLAGS.find((f) => f.name === name)!.params]);
      expect([name, r[3].startsWith('never')]).toEqual([name, SERVER_SIDE_FLAGS.has(name)]);
    }
  },
  // v4 §10
  limits: async (b) => {
    const actual: Record<string, number | string> = {
      MAX_ARCHIVE_BYTES: config.maxArchiveBytes,
      ARCHIVE_MAX_ENTRIES: config.archiveMaxEntries,
      ARCHIVE_MAX_UNCOMPRESSED_BYTES: config.archiveMaxUncompressedBytes,
      ARCHIVE_MAX_RATIO: config.archiveMaxRatio,
      'ratio threshold': largest(4095, (n) => !ratioChecked(n)),
      DEVICE_TOKEN_TTL_SECONDS: config.deviceTokenTtlSeconds,
      AUTH_MAX_FAILURES: config.authMaxFailures,
      AUTH_MAX_ACCOUNT_FAILURES: config.authMaxAccountFailures,
      AUTH_MAX_ADDRESS_FAILURES: config.authMaxAddressFailures,
      IMPORT_MAX_PENDING: config.importMaxPending,
      IMPORT_RETRY_AFTER_SECONDS: config.importRetryAfterSeconds,
      SYNC_STUCK_AFTER_SECONDS: config.syncStuckAfterSeconds,
      IMPORT_RETRY_LIMIT: config.importRetryLimit,
      'device.xml size': largest(65536, (n) => fileOk(() => parseDeviceXml(`<device>${' '.repeat(n - 17)}</device>`))),
      'settings.xml size': largest(262144, (n) => fileOk(() => parseSettingsXml(`<settings>${' '.repeat(n - 21)}</settings>`))),
      MAX_SETTINGS,
      MAX_SETTING_VALUE_LENGTH,
      'CSV row length': await largestAsync(4096, csvRowFits),
      'CSV columns': await largestAsync(64, csvHeaderFits),
      'record_id max': largest(Number.MAX_SAFE_INTEGER, (n) => parseRecordId(String(n)) !== null),
      MAX_USER_ID,
      EARLIEST_ROW_TIME: formatIsoTimestamp(EARLIEST_ROW_TIME),
      MAX_FUTURE_SKEW_MS: MAX_FUTURE_SKEW_MS / 1000,
      TEMPERATURE_MIN,
      TEMPERATURE_MAX,
      CLOCK_REPORT_SKEW_SECONDS,
      CLOCK_SUSPECT_SKEW_SECONDS,
      MAX_MESSAGE_BODY_LENGTH,
      MAX_SENSOR_LENGTH,
      PHOTO_NAME: largest(100, (n) => isPhotoName('a'.repeat(n))),
      MAX_PHOTO_BYTES,
      MAX_PHOTO_SIDE,
      RESEND_WINDOW_DAYS,
      MAX_STATUS_WAIT_SECONDS,
    };
    expect(column(b, 2).sort()).toEqual(Object.keys(actual).sort());
    for (const r of rows(b)) {
      const key = codeOf(r[2]);
      const value = typeof actual[key] === 'string' ? r[1] : Number(/-?\d[\d,]*(\.\d+)?/.exec(r[1])![0].replace(/,/g, ''));
      expect([key, value]).toEqual([key, actual[key]]);
    }
  },
  // push.md
  'push-answers': (b) => {
    // The handler's answers, and those given while a body is read (api/push/body.ts).
    const bodySource = source('api/push/body.ts');
    for (const r of rows(b)) {
      const [status, text] = [r[0], codeOf(r[1])];
      expect({ status, text, found: pushSource.includes(`new PushAnswer(${status}, '${text}'`) || bodySource.includes(`status: ${status}, text: '${text}'`) })
        .toEqual({ status, text, found: true });
    }
    expect(bodySource).toContain('const SMALL = 64 * 1024;');
    expect(bodySource).toContain('const UNREGISTERED = 16 * 1024;');
    expect(bodySource).toContain('const OTHER_TABLE = 1024 * 1024;');
  },
  'push handshake': (b, args) => {
    // The 2.x answer: what the handshake returns after the 3.x branch.
    expect(regionOf('api/push/options.ts', 'const handshake', 'const pushOptions')).toContain('const timeZone = pushTimeZone(timezone, new Date());');
    const region = regionOf('api/push/options.ts', '`GET OPTION FROM: ', 'const pushOptions');
    const [first, ...lines] = b.text!.split('\n');
    expect(region).toContain(`\`${first.replace(/\S+$/, '')}\${sn}\``);
    const keys = [...region.matchAll(/[`']([A-Za-z]+)=/g)].map((m) => m[1]);
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(keys);
    for (const line of lines) {
      const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      if (key === 'TimeZone') {
        expect(region).toContain('`TimeZone=${timeZone.option}`');
        expect(Number(value)).toBe(pushTimeZone(args.timezone, new Date(args.at)).option);
      } else if (key === 'ServerVer') expect(value).toBe(VERSION);
      else if (key === 'Delay') expect(region).toContain(`delay_seconds ?? ${value}`);
      else if (key.endsWith('Stamp')) expect(value).toBe('0'); // a terminal that sent nothing yet
      else expect(region).toContain(`'${line}'`);
    }
  },
  'push handshake3': (b, args) => {
    const branch = regionOf('api/push/options.ts', 'if (isPush3(req.query))', '`GET OPTION FROM: ');
    const options = regionOf('api/push/options.ts', 'function push3Options', 'export function optionRoutes');
    // Unknown or pending: `OK`, the cue to register; registered: `registry=ok`, the RegistryCode, the options.
    expect(branch).toContain("if (!terminal?.device_id || terminal.school_id === null) return new PushAnswer(200, 'OK');");
    expect(branch).toContain('...push3Options(terminal, req, timeZone.option, codes!.sessionId)');
    const lines = b.text!.split('\n');
    const keys = [...branch.matchAll(/[`']([A-Za-z]+)=/g), ...options.matchAll(/[`']([A-Za-z]+)=/g)].map((m) => m[1]);
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(keys);
    for (const line of lines) {
      const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      if (key === 'RegistryCode') {
        // Random, drawn once per terminal and kept: the example's value only has the shape.
        expect(branch).toContain('`RegistryCode=${codes!.code}`');
        expect(pushSource).toContain("code: randomBytes(16).toString('hex')");
        expect(value).toMatch(/^[0-9a-f]{32}$/);
      } else if (key === 'SessionID') {
        expect(options).toContain('`SessionID=${sessionId}`');
        expect(pushSource).toContain("sessionId: randomBytes(16).toString('hex').toUpperCase()");
        expect(value).toMatch(/^[0-9A-F]{32}$/);
      } else if (key === 'TimeZone') {
        expect(options).toContain('`TimeZone=${timeZone}`');
        expect(Number(value)).toBe(pushTimeZone(args.timezone, new Date(args.at)).option);
      } else if (key === 'ServerVersion') {
        expect(value).toBe(VERSION);
      } else if (key === 'PushProtVer') {
        expect(options).toContain(`: '${value}'}\``); // the terminal's pushver, else this
      } else if (key === 'RequestDelay') {
        // The terminal's delay_seconds, 10 unless staff set it (db/migrations: DEFAULT 10).
        expect(options).toContain('`RequestDelay=${terminal.delay_seconds}`');
        expect(source('db/migrations/20261203_300000_push_terminals.ts')).toContain(`delay_seconds integer NOT NULL DEFAULT ${value} `);
      } else {
        expect(branch + options).toContain(`'${line}'`);
      }
    }
  },
  'push-timezone': (b) => {
    const offset = (minutes: number) => `${minutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}:${String(Math.abs(minutes) % 60).padStart(2, '0')}`;
    for (const r of rows(b)) {
      const zone = pushTimeZone(codeOf(r[0]), new Date(r[1]));
      expect([r[0], r[1], r[2], Number(codeOf(r[3]))]).toEqual([r[0], r[1], offset(zone.minutes), zone.option]);
    }
  },
  'push-status': (b) => {
    for (const r of rows(b)) {
      const status = codeOf(r[0]);
      const line = parseAttlogLine(`1\t2026-11-20 08:00:00\t${status === 'empty' ? '' : status}\t1\t0`, 'UTC', AT);
      const type = line.ok ? line.punch.type : line.code;
      expect([status, type ?? 'inferred by pairing']).toEqual([status, codeOf(r[2])]);
      if (status !== 'empty') expect(typeOfStatus(Number(status))).toBe(type);
    }
  },
  'push-attlog-lines': (b, args) => {
    for (const r of rows(b)) {
      const line = parseAttlogLine(tabs(codeOf(r[0])), args.timezone, new Date(args.received));
      const outcome = line.ok ? line.punch.type ?? 'punch' : line.code;
      const instant = line.ok ? formatIsoTimestamp(line.punch.occurredAt) : '—';
      expect([r[0], outcome, instant]).toEqual([r[0], codeOf(r[1]), r[2]]);
    }
  },
  'push-clock': (b, args) => {
    // channels/push/import-attlog.ts noteRealTime: a punch within REALTIME_WINDOW_SECONDS of its arrival gives the skew.
    expect(regionOf('channels/push/import-attlog.ts', 'function noteRealTime', '\n}\n')).toContain('if (Math.abs(skew) > REALTIME_WINDOW_SECONDS ');
    expect(pushPage).toContain(`within ${REALTIME_WINDOW_SECONDS} s of its own time`);
    for (const r of rows(b)) {
      const arrival = new Date(r[1]);
      const line = parseAttlogLine(`1\t${codeOf(r[0])}`, args.timezone, arrival);
      if (!line.ok) throw new Error(`${r[0]}: ${line.code}`);
      const skew = Math.round((line.punch.occurredAt.getTime() - arrival.getTime()) / 1000);
      expect([r[0], r[2]]).toEqual([r[0], Math.abs(skew) > REALTIME_WINDOW_SECONDS ? 'none' : String(skew)]);
    }
  },
  'push-rtlog-lines': (b, args) => {
    expect(pushPage).toContain(`within ${TEMPERATURE_MIN}–${TEMPERATURE_MAX};`);
    for (const r of rows(b)) {
      const line = parseRtlogLine(tabs(codeOf(r[0])), args.timezone, new Date(args.received));
      const outcome = line === null ? 'no punch' : line.ok ? line.punch.type ?? 'punch' : line.code;
      const instant = line?.ok ? formatIsoTimestamp(line.punch.occurredAt) : '—';
      const temperature = line?.ok && line.punch.temperature !== null ? String(line.punch.temperature) : '—';
      expect([r[0], outcome, instant, temperature]).toEqual([r[0], codeOf(r[1]), r[2], r[3]]);
    }
  },
  'push getrequest': (b) => {
    expect(regionOf('api/push/getrequest.ts', 'const getrequest', 'const infoNoted')).toContain('`C:${c.id}:${c.command}`');
    const known = [userUpdate(ALICE), userDelete(EMMA), 'REBOOT'];
    const lines = b.text!.split('\n').map((l) => /^C:(\d+):(.+)$/.exec(tabs(l))!);
    expect(lines.map((m) => m[2])).toEqual(known);
    expect(lines.map((m) => Number(m[1]))).toEqual(lines.map((m) => Number(m[1])).sort((x, y) => x - y));
  },
  'push-getrequest-framing': (b) => {
    // api/push/answer.ts, getrequest.ts: an idle poll is IDLE; commands one per line, a single one without its line break.
    expect(pushSource).toContain("const IDLE = new PushAnswer(200, 'OK');");
    expect(regionOf('api/push/getrequest.ts', 'const getrequest', 'const infoNoted')).toContain("return new PushAnswer(200, lines.length === 1 ? lines[0] : `${lines.join('\\n')}\\n`);");
    const counts: Record<string, number> = { nothing: 0, one: 1, two: 2 };
    expect(rows(b).map((r) => r[0])).toEqual(Object.keys(counts));
    for (const r of rows(b)) {
      const body = codeOf(r[1]).replace(/\\n/g, '\n');
      const lines = body === 'OK' ? [] : body.split('\n').filter((l) => l !== '');
      expect(lines.every((l) => /^C:\d+:\S.*$/.test(l))).toBe(true);
      expect([r[0], lines.length, body]).toEqual([r[0], counts[r[0]], lines.length === 0 ? 'OK' : lines.length === 1 ? lines[0] : `${lines.join('\n')}\n`]);
    }
  },
  'push devicecmd': () => undefined, // read by push-devicecmd-results
  'push-devicecmd-results': (b) => {
    const recorder = regionOf('db/repositories/push/commands.ts', 'export async function recordCommandResults', '\n}\n');
    expect(recorder).toContain(RESULT_STATUS_SQL);
    expect(recorder).toContain(RESULT_FAILURE_SQL);
    // As the SQL above records a result: the status, then the failure it writes.
    const recorded = (code: number | null) => (code !== null && code >= 0 ? ['succeeded'] : ['failed', code === null ? 'terminal answered without a Return code' : `terminal answered ${code}`]);
    const results = parseCommandResults(textOf('push devicecmd').text);
    expect(results.map((r) => [String(r.id), r.returnCode === null ? '—' : String(r.returnCode), r.cmd, r.content ?? '—', recorded(r.returnCode)])).toEqual(
      rows(b).map((r) => [r[0], r[1], codeOf(r[2]), codeSpans(r[3]).join('\n') || r[3], codeSpans(r[4])]),
    );
    // A succeeded INFO's settings are merged into what the terminal reported (api/push/devicecmd.ts).
    expect(regionOf('api/push/devicecmd.ts', 'const devicecmd', 'export function commandResultRoutes')).toContain('if (mine.has(r.id) && r.content) await recordOptions(trx, { schoolId: terminal.school_id, serialNumber: sn }, parseOptions(r.content));');
    const info = results.find((r) => r.cmd === 'INFO')!;
    expect(Object.keys(parseOptions(info.content!))).toEqual(info.content!.split('\n').map((l) => l.slice(0, l.indexOf('='))));
  },
  'push-commands': async (b) => {
    // A DST change (channels/push/timezones.ts): the new offset and a CHECK, queued with source 'clock'.
    const timezones = source('channels/push/timezones.ts');
    expect(timezones).toContain("timeZoneCommands(zone.option).map((command) => ({ source: 'clock' as const, command }))");
    const clockRow = rows(b).find((r) => codeOf(r[0]).startsWith('clock:'))!;
    const change = new Date(/\d{4}-\d{2}-\d{2}T[\d:]+Z/.exec(clockRow[0])![0]);
    expect(pushTimeZone('Europe/Paris', new Date(change.getTime() - 1000)).minutes).not.toBe(pushTimeZone('Europe/Paris', change).minutes);
    const expected: Record<string, string[]> = {
      [codeOf(clockRow[0])]: timeZoneCommands(pushTimeZone('Europe/Paris', change).option),
      'roster: a user added or changed': [userUpdate(ALICE)],
      'roster: a user deactivated': [userDelete(EMMA)],
      REBOOT: await commandsOf('REBOOT'),
      REPORT_SETTINGS: await commandsOf('REPORT_SETTINGS'),
      SET_SETTINGS: await commandsOf('SET_SETTINGS', { volume: 3 }),
      FULL_RESYNC: await commandsOf('FULL_RESYNC'),
      RESEND_SINCE: await commandsOf('RESEND_SINCE', { since: '2026-09-01' }),
    };
    expect(await commandsOf('RELOAD_ROSTER')).toEqual([userUpdate(ALICE), userDelete(EMMA)]);
    expect([await commandsOf('PURGE_CONFIRMED_LOGS'), await commandsOf('RESET_SESSION')]).toEqual([[], []]);
    const documented = Object.fromEntries(rows(b).filter((r) => expected[codeOf(r[0])] !== undefined)
      .map((r) => [codeOf(r[0]), codeSpans(r[1]).map(tabs)]));
    expect(documented).toEqual(expected);
  },
  'push-staff-commands': (b) => expect(column(b)).toEqual([...PUSH_COMMANDS]),
  'push-gaps': async (b) => {
    const checked = rows(b).filter((r) => r[3] === 'yes').map((r) => codeOf(r[0]));
    expect([...checked].sort()).toEqual(Object.keys(PUSH_GAPS).sort());
    for (const gap of checked) {
      if (!(await PUSH_GAPS[gap]())) {
        throw new Error(`The PUSH gap "${gap}" is fixed in the code: update docs/protocol/push.md (§8 and the sections that describe it) and this test's PUSH_GAPS.`);
      }
    }
  },
};

function manifest(b: MarkedBlock, channel: ChannelName, args: Record<string, string>): void {
  const m = json(b);
  const flags = (args.flags ?? '').split(',').filter(Boolean).map((name) => ({ name }));
  expect(MANIFEST_MEMBERS).toEqual(expect.arrayContaining(Object.keys(m)));
  expect(m.files).toEqual(wantedFiles(channel, flags));
  expect(Object.keys(m.high_water_marks as object)).toEqual([...CHANNEL_UPLOADS[channel].csvLogs]);
  expect(m.max_archive_bytes).toBe(config.maxArchiveBytes);
  const now = parseIsoTimestamp(m.server_time as string)!;
  const resend = flags.some((f) => f.name === 'RESEND_SINCE')
    ? resendWindow([{ name: 'RESEND_SINCE', params: { since: args.since }, progress: null }], now, args.timezone)
    : undefined;
  expect(m.resend).toEqual(resend ?? undefined);
}

function problemExample(b: MarkedBlock, zip: string): void {
  const required = wantedFiles('synchro', []).filter((f) => f.required).map((f) => f.name);
  const problem = problemOf(() => inspectArchive(fixture(zip), { channel: CHANNEL_UPLOADS.synchro, required, limits: LIMITS }));
  expect(problem.toJSON()).toEqual(json(b));
}

function columns(b: MarkedBlock, spec: CsvLogSpec, valid?: (fields: Record<string, string>) => boolean): void {
  expect(column(b)).toEqual([...spec.required, ...spec.optional]);
  for (const r of rows(b)) expect([codeOf(r[0]), r[1]]).toEqual([codeOf(r[0]), spec.required.includes(codeOf(r[0])) ? 'yes' : 'no']);
  // A row made of the table's examples passes the row validator.
  if (valid) expect(valid(Object.fromEntries(rows(b).map((r) => [codeOf(r[0]), codeOf(r[4])])))).toBe(true);
}

/** Whether a one-column log whose row is `n` characters long reads that row. */
async function csvRowFits(n: number): Promise<boolean> {
  for await (const row of readCsvLog(Buffer.from(`a\n${'x'.repeat(n)}\n`), { required: ['a'], optional: [] })) return !row.malformed;
  return false;
}

/** Whether a log whose header names `n` columns is read at all. */
async function csvHeaderFits(n: number): Promise<boolean> {
  const header = Array.from({ length: n }, (_, i) => `c${i}`).join(',');
  try {
    for await (const row of readCsvLog(Buffer.from(`${header}\n`), { required: ['c0'], optional: [] })) void row;
    return true;
  } catch (err) {
    if (isFileError(err)) return false;
    throw err;
  }
}

/** Whether inspectArchive checks the compression ratio of an entry of `n` bytes (spaces, against a ratio cap of 2). */
function ratioChecked(n: number): boolean {
  try {
    inspectArchive(buildZip([{ name: 'device.xml', data: Buffer.alloc(n, 0x20) }]), { channel: CHANNEL_UPLOADS.synchro, required: [], limits: { ...LIMITS, maxRatio: 2 } });
    return false;
  } catch (err) {
    if (err instanceof Problem && err.code === 'archive_suspicious_ratio') return true;
    throw err;
  }
}

type PackageCheck = (doc: ReturnType<typeof readPackage>, args: Record<string, string>, text: string) => void | Promise<void>;

/** The package of a fixture's batch: its import (as importOf reads it), its clock, its roster mode. */
async function fixturePackage(zip: string, doc: ReturnType<typeof readPackage>, args: Record<string, string>, text: string): Promise<void> {
  const receivedAt = new Date(args.received);
  const { stats, rejections, device } = await importOf(zip, receivedAt);
  const out = emptyParts();
  out.imports.set('attendances.csv', stats);
  out.rejections = rejections;
  const reported = device.rosterVersion ?? 0;
  // The version is the roster's transaction horizon (any number above the one reported); the mode follows device.xml.
  expect(doc.out.roster!.version).toBeGreaterThan(reported);
  out.roster = { version: doc.out.roster!.version, mode: reported > 0 ? 'delta' : 'full', file: 'roster.csv' };
  const skew = Math.round((device.clock!.getTime() - receivedAt.getTime()) / 1000);
  expect(written(doc.sessionId, doc.generatedAt, skew, out)).toBe(text);
}

const packageChecks: Record<string, PackageCheck> = {
  'fixtures/archives/valid-small.zip': (doc, args, text) => fixturePackage('fixtures/archives/valid-small.zip', doc, args, text),
  'fixtures/archives/bad-row-codes.zip': (doc, args, text) => fixturePackage('fixtures/archives/bad-row-codes.zip', doc, args, text),
  'settings-error': (doc, _args, text) => {
    const out = emptyParts();
    try {
      parseSettingsXml(textOf('settings.xml invalid').text);
    } catch (err) {
      if (!isFileError(err)) throw err;
      out.errors.push({ file: 'settings.xml', code: err.code, detail: err.message });
    }
    expect(out.errors).toHaveLength(1);
    expect(written(doc.sessionId, doc.generatedAt, null, out)).toBe(text);
  },
  // As worker/import/import-session.ts failSession writes it.
  processing_failed: (doc, _args, text) => {
    expect(buildInstructionsXml({ sessionId: doc.sessionId, generatedAt: doc.generatedAt, errors: [{ code: 'processing_failed', retry: true }] }).trimEnd()).toBe(text);
  },
  // The flags as the synchro importer turns them into <flag> and <settings> (channels/kit/flags.ts).
  flags: (doc, _args, text) => {
    const pending = doc.out.flags.map((f) => ({ id: f.id, name: f.name, params: f.name === 'SET_SETTINGS' ? doc.out.settings : f.params }) as unknown as DeviceFlag);
    const { flags, settings } = flagInstructions(pending);
    const out = emptyParts();
    out.imports = doc.out.imports;
    out.flags = flags;
    out.settings = settings;
    expect(written(doc.sessionId, doc.generatedAt, null, out)).toBe(text);
  },
  sondes: async (doc, args, text) => {
    const readings = textOf('readings.csv');
    const rowsRead = (await csvRows(readings.text, READING_COLUMNS)).map((f) => validateReadingRow(f, { receivedAt: new Date(readings.args.received) }));
    const ok = rowsRead.flatMap((r) => (r.ok ? [r.row] : []));
    const out = emptyParts();
    out.imports.set('readings.csv', { received: rowsRead.length, accepted: ok.length, duplicates: 0, rejected: rowsRead.length - ok.length, high_water_mark: Math.max(...ok.map((r) => r.recordId)) });
    out.alerts = ok.filter((r) => r.temperature >= Number(args.threshold))
      .map((r) => ({ kind: 'fever', recordId: r.recordId, userId: r.userId, temperature: r.temperature, measuredAt: r.measuredAt }));
    expect(written(doc.sessionId, doc.generatedAt, null, out)).toBe(text);
  },
  // The import of the messages.csv example; the office's messages and alerts are the example's own.
  messagerie: async (doc, _args, text) => {
    const messages = textOf('messages.csv');
    const read = (await csvRows(messages.text, MESSAGE_COLUMNS)).map((f) => validateMessageRow(f, { receivedAt: new Date(messages.args.received) }));
    const ok = read.flatMap((r) => (r.ok ? [r.row] : []));
    const out = emptyParts();
    out.imports.set('messages.csv', { received: read.length, accepted: ok.length, duplicates: 0, rejected: read.length - ok.length, high_water_mark: Math.max(...ok.map((r) => r.recordId)) });
    out.alerts = doc.out.alerts;
    out.messages = doc.out.messages;
    expect(written(doc.sessionId, doc.generatedAt, null, out)).toBe(text);
  },
  // The names the photos manifest example asked for; a held photo has its SHA-256, a refused one a code.
  photos: (doc, _args, text) => {
    const wanted = JSON.parse(textOf('manifest photos').text) as { photos_wanted: string[] };
    expect(doc.out.photos.map((p) => p.name)).toEqual(wanted.photos_wanted);
    for (const p of doc.out.photos) expect('sha256' in p ? /^[0-9a-f]{64}$/.test(p.sha256) : ['not_an_image', 'too_large'].includes(p.code)).toBe(true);
    expect(doc.out.imports.size).toBe(0);
    const out = emptyParts();
    out.photos = doc.out.photos;
    expect(written(doc.sessionId, doc.generatedAt, null, out)).toBe(text);
  },
};

describe('docs/protocol', () => {
  it('marks every example block and every marker is followed by a block', () => {
    expect(pages.flatMap((p) => p.unmarked)).toEqual([]);
    expect(pages.flatMap((p) => p.dangling)).toEqual([]);
  });

  it('has a check for every marked example and table, and every check is used', () => {
    const used = new Set<string>();
    for (const b of blocks.filter((x) => x.kind !== 'not checked')) {
      const base = baseId(b.id);
      const key = checks[base] ? base : base.split(' ')[0];
      if (!checks[key]) throw new Error(`${b.where}: no check for "${b.id}" in test/unit/docs/protocol-examples.test.ts`);
      used.add(key);
    }
    expect(Object.keys(checks).filter((k) => !used.has(k))).toEqual([]);
  });

  for (const b of blocks.filter((x) => x.kind !== 'not checked')) {
    it(`${b.where} ${b.kind}: ${b.id}`, async () => {
      const base = baseId(b.id);
      await checks[checks[base] ? base : base.split(' ')[0]](b, markerArgs(b.id));
    });
  }
});


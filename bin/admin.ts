// `npm run admin -- <command> [options]`: the operator's break-glass commands, run where the api
// runs (docker compose run --rm api node dist/bin/admin.js …), on DATABASE_URL. Each command
// runs in one transaction that also writes its admin_actions row (who, what, result; never a
// secret). `--by NAME` names the operator (default: the system user); `--as EMAIL` names the
// backoffice account on whose behalf flags are set (flag_events name it).
// docs/OPERATIONS.md "Admin commands" lists them.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import AdmZip from 'adm-zip';
import { queueFlagCommands } from '../api/push/commands.js';
import { connectDatabase, type Trx } from '../db/database.js';
import { listAdminActions, offboardSchool, recordAdminAction, schoolIds, setDeviceSecretHash, setStaffPassword } from '../db/repositories/admin-actions.js';
import { deviceIdsOfSchool } from '../db/repositories/devices.js';
import { erasePupil, pupilsOfSchool } from '../db/repositories/erasure.js';
import { requeueUnacknowledged, setFlags } from '../db/repositories/flags.js';
import { setSchoolRetention } from '../db/repositories/retention.js';
import { readSchoolData } from '../db/repositories/school-export.js';
import { findSchool } from '../db/repositories/schools.js';
import { lockSession } from '../db/repositories/import-session.js';
import { findStaffByEmail } from '../db/repositories/staff.js';
import { resetState } from '../db/repositories/sync.js';
import { hashPassword } from '../shared/auth/password.js';
import { generateDeviceSecret, hashDeviceSecret } from '../shared/auth/device-secret.js';
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startOfLocalDay } from '../shared/time/zoned.js';
import { VERSION } from '../shared/version.js';

export class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;
interface Context { trx: Trx; values: Values; staffId: number | null; input: () => Promise<string> }
interface Command {
  usage: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  run(ctx: Context): Promise<{ args: Record<string, unknown>; result: Record<string, unknown>; say: string }>;
}

function required(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

async function schoolsOf(trx: Trx, values: Values): Promise<number[]> {
  if (values.all === true) return schoolIds(trx);
  const list = required(values, 'school').split(',').map((s) => s.trim());
  if (list.some((s) => !/^\d+$/.test(s))) throw new UsageError('--school takes school ids separated by commas');
  return list.map(Number);
}

function idOption(values: Values, name: string): number {
  const raw = required(values, name);
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} takes a number`);
  return Number(raw);
}

/** The school's export as one zip (docs/DATA-PROTECTION.md "Export"): manifest.json, one JSON-lines file per table, photos/. */
async function writeSchoolExport(trx: Trx, schoolId: number, out: string): Promise<Record<string, number>> {
  const data = await readSchoolData(trx, schoolId);
  if (!data) throw new UsageError(`no school ${schoolId}`);
  const zip = new AdmZip();
  const counts: Record<string, number> = {};
  for (const [table, rows] of Object.entries(data.tables)) {
    counts[table] = rows.length;
    zip.addFile(`${table}.jsonl`, Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')));
  }
  for (const photo of data.photos) zip.addFile(`photos/${photo.sha256}.${photo.content_type === 'image/png' ? 'png' : 'jpg'}`, photo.data);
  counts.photos = data.photos.length;
  const manifest = { format: EXPORT_FORMAT, format_version: 1, product_version: VERSION, school_id: schoolId, exported_at: new Date().toISOString(), rows: counts };
  zip.addFile('manifest.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  await fs.writeFile(out, zip.toBuffer(), { mode: 0o600 });
  return counts;
}

export const EXPORT_FORMAT = 'attendance-sync-school-export';

const COMMANDS: Record<string, Command> = {
  'set-password': {
    usage: 'set-password --email EMAIL   a staff account\'s new password, read from standard input (never from the command line)',
    options: { email: { type: 'string' } },
    async run({ trx, values, input }) {
      const email = required(values, 'email').toLowerCase();
      const password = (await input()).replace(/\r?\n$/, '');
      if (password.length < 8) throw new UsageError('the password (standard input) must be at least 8 characters');
      const staff = await findStaffByEmail(trx, email);
      if (!staff) throw new UsageError(`no staff account ${email}`);
      await setStaffPassword(trx, staff.id, await hashPassword(password));
      return { args: { email }, result: { staff_id: staff.id }, say: `password of ${email} set` };
    },
  },
  'fail-session': {
    usage: 'fail-session --session UUID   a stuck sync session closed (as RESET_SESSION does): its device starts over, flags it carried are pending again',
    options: { session: { type: 'string' } },
    async run({ trx, values, staffId }) {
      const id = required(values, 'session');
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('--session takes a session id (a UUID)');
      const session = await lockSession(trx, id);
      if (!session) throw new UsageError(`no session ${id}`);
      const closed = await resetState(trx, session.school_id, session.device_id, session.channel);
      if (closed !== id) throw new UsageError(`session ${id} is not the current session of its device (${closed === null ? 'the device is idle' : `closed ${closed} instead`}): nothing to fail`);
      await requeueUnacknowledged(trx, id, staffId);
      return { args: { session: id }, result: { device_id: session.device_id, channel: session.channel }, say: `session ${id} closed; device ${session.device_id} (${session.channel}) is idle` };
    },
  },
  'rotate-device-secret': {
    usage: 'rotate-device-secret --device UUID   a new secret for a device (printed once: provision it on the device); the old one stops working',
    options: { device: { type: 'string' } },
    async run({ trx, values }) {
      const id = required(values, 'device');
      const secret = generateDeviceSecret();
      if (!(await setDeviceSecretHash(trx, id, hashDeviceSecret(secret)))) throw new UsageError(`no device ${id}`);
      return { args: { device: id }, result: { rotated: true }, say: `device ${id}: new secret ${secret}` };
    },
  },
  'new-jwt-secret': {
    usage: 'new-jwt-secret   a fresh JWT_SECRET to put in .env (restart the api: staff sign in again, devices do it by themselves)',
    options: {},
    async run() {
      return { args: {}, result: {}, say: randomBytes(48).toString('base64url') };
    },
  },
  'erase-user': {
    usage: 'erase-user --user ID   erase a pupil: name, badge, photos, temperatures scrubbed or deleted; the figures stay, anonymous',
    options: { user: { type: 'string' } },
    async run({ trx, values }) {
      const id = idOption(values, 'user');
      const scrubbed = await erasePupil(trx, id);
      if (!scrubbed) throw new UsageError(`no user ${id}`);
      return { args: { user: id }, result: { scrubbed }, say: `user ${id} erased (${Object.entries(scrubbed).filter(([, n]) => n > 0).map(([t, n]) => `${t}: ${n}`).join(', ')})` };
    },
  },
  'export-school': {
    usage: 'export-school --school ID --out FILE.zip   everything the school\'s data is, in one archive (docs/DATA-PROTECTION.md)',
    options: { school: { type: 'string' }, out: { type: 'string' } },
    async run({ trx, values }) {
      const id = idOption(values, 'school');
      const out = required(values, 'out');
      const counts = await writeSchoolExport(trx, id, out);
      return { args: { school: id, out }, result: { rows: counts }, say: `school ${id} exported to ${out}` };
    },
  },
  'offboard-school': {
    usage: 'offboard-school --school ID --out FILE.zip   a school that leaves: its export, then every pupil erased, its devices disabled, its staff accounts removed',
    options: { school: { type: 'string' }, out: { type: 'string' } },
    async run({ trx, values }) {
      const id = idOption(values, 'school');
      const out = required(values, 'out');
      const counts = await writeSchoolExport(trx, id, out);
      const pupils = await pupilsOfSchool(trx, id);
      for (const pupil of pupils) await erasePupil(trx, pupil, id);
      const offboarded = await offboardSchool(trx, id);
      return { args: { school: id, out }, result: { exported: counts, erased: pupils.length, ...offboarded }, say: `school ${id} exported to ${out}, ${pupils.length} pupil(s) erased, ${offboarded.devices_disabled} device(s) disabled, ${offboarded.staff_removed} staff account(s) removed` };
    },
  },
  retention: {
    usage: 'retention --school ID [--archives DAYS] [--packages DAYS] [--photos DAYS] [--temperatures DAYS]   a school\'s own retention (unset: the defaults)',
    options: { school: { type: 'string' }, archives: { type: 'string' }, packages: { type: 'string' }, photos: { type: 'string' }, temperatures: { type: 'string' } },
    async run({ trx, values }) {
      const id = idOption(values, 'school');
      if (!(await findSchool(trx, id))) throw new UsageError(`no school ${id}`);
      const days = (name: string) => (values[name] === undefined ? null : idOption(values, name));
      const retention = { archive_days: days('archives'), package_days: days('packages'), photo_days: days('photos'), temperature_days: days('temperatures') };
      for (const [k, v] of Object.entries(retention)) if (v !== null && (v < 1 || v > 3650)) throw new UsageError(`${k}: between 1 and 3650 days`);
      await setSchoolRetention(trx, id, retention);
      return { args: { school: id, ...retention }, result: {}, say: `school ${id} retention set` };
    },
  },
  'resend-since': {
    usage: 'resend-since --since YYYY-MM-DD (--school ID[,ID…] | --all)   after a restore: every device of these schools resends what it recorded since that day',
    options: { since: { type: 'string' }, school: { type: 'string' }, all: { type: 'boolean' } },
    async run({ trx, values, staffId }) {
      const since = required(values, 'since');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) throw new UsageError('--since is a day, YYYY-MM-DD');
      const schools = await schoolsOf(trx, values);
      const now = new Date();
      const perSchool: Record<string, number> = {};
      for (const id of schools) {
        const school = await findSchool(trx, id);
        if (!school) throw new UsageError(`no school ${id}`);
        if (startOfLocalDay(since, school.timezone) >= now) throw new UsageError(`${since} has not begun in school ${id}'s time zone (${school.timezone})`);
        const devices = await deviceIdsOfSchool(trx, id);
        const set = await setFlags(trx, { schoolId: id, deviceIds: devices, name: 'RESEND_SINCE', params: { since }, expiresAt: null, staffId, details: { school_id: id, admin_cli: true } });
        await queueFlagCommands(trx, id, set.map((s) => s.id), now);
        perSchool[id] = set.length;
      }
      const total = Object.values(perSchool).reduce((a, b) => a + b, 0);
      return { args: { since, schools }, result: { devices: perSchool }, say: `RESEND_SINCE ${since} set on ${total} device(s) of ${schools.length} school(s)` };
    },
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function usage(): string {
  return `usage: npm run admin -- <command> [options] [--by NAME] [--as EMAIL]\n${Object.values(COMMANDS).map((c) => `  ${c.usage}`).join('\n')}\n  log [--limit N]   the last admin actions\n`;
}

/** `input`: what the command reads on standard input (set-password). */
export async function runAdmin(argv: string[], databaseUrl: string, input: () => Promise<string> = readStdin): Promise<{ code: number; out: string }> {
  const [name, ...rest] = argv;
  const logger = createLogger('admin', 'warn');
  const database = connectDatabase(databaseUrl, { max: 1, logger, applicationName: 'attendance-admin' });
  try {
    if (name === 'log') {
      const { values } = parseArgs({ args: rest, options: { limit: { type: 'string' } } });
      const actions = await listAdminActions(database.db, Number(values.limit ?? 20));
      return { code: 0, out: actions.map((a) => `${a.at.toISOString()} ${a.operator} ${a.command} ${JSON.stringify(a.args)} → ${JSON.stringify(a.result)}`).join('\n') };
    }
    const command = name === undefined ? undefined : COMMANDS[name];
    if (!command) return { code: 64, out: usage() };
    const { values } = parseArgs({ args: rest, options: { ...command.options, by: { type: 'string' }, as: { type: 'string' } }, strict: true });
    const operator = typeof values.by === 'string' ? values.by : os.userInfo().username;
    // Repeatable read: an export is one snapshot; a command that loses a race fails and can be run again.
    const said = await database.db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
      let staffId: number | null = null;
      if (typeof values.as === 'string') {
        const staff = await findStaffByEmail(trx, values.as.toLowerCase());
        if (!staff) throw new UsageError(`no staff account ${values.as}`);
        staffId = staff.id;
      }
      const done = await command.run({ trx, values, staffId, input });
      await recordAdminAction(trx, { command: name!, operator, staffId, args: done.args, result: done.result });
      return done.say;
    });
    return { code: 0, out: said };
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return { code: 64, out: `admin: ${(err as Error).message}\n${usage()}` };
    throw err;
  } finally {
    await database.close();
  }
}

if (process.argv[1] && /[\\/]admin\.[jt]s$/.test(process.argv[1])) {
  const config = loadConfigOrExit();
  if (!config.databaseUrl) {
    process.stderr.write('configuration error: DATABASE_URL: required for npm run admin\n');
    process.exit(78);
  }
  const { code, out } = await runAdmin(process.argv.slice(2), config.databaseUrl);
  (code === 0 ? process.stdout : process.stderr).write(out.endsWith('\n') ? out : `${out}\n`);
  process.exit(code);
}

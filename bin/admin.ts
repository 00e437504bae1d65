// `npm run admin -- <command> [options]`: the operator's break-glass commands, run where the api
// runs (docker compose run --rm api node dist/bin/admin.js …), on DATABASE_URL. Each command
// runs in one transaction that also writes its admin_actions row (who, what, result; never a
// secret). `--by NAME` names the operator (default: the system user); `--as EMAIL` names the
// backoffice account on whose behalf flags are set (flag_events name it).
// docs/OPERATIONS.md "Admin commands" lists them.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { queueFlagCommands } from '../api/push/commands.js';
import { connectDatabase, type Trx } from '../db/database.js';
import { listAdminActions, recordAdminAction, schoolIds } from '../db/repositories/admin-actions.js';
import { deviceIdsOfSchool } from '../db/repositories/devices.js';
import { setFlags } from '../db/repositories/flags.js';
import { findSchool } from '../db/repositories/schools.js';
import { findStaffByEmail } from '../db/repositories/staff.js';
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { startOfLocalDay } from '../shared/time/zoned.js';

export class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;
interface Context { trx: Trx; values: Values; staffId: number | null }
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

const COMMANDS: Record<string, Command> = {
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
        const set = await setFlags(trx, { deviceIds: devices, name: 'RESEND_SINCE', params: { since }, expiresAt: null, staffId, details: { school_id: id, admin_cli: true } });
        await queueFlagCommands(trx, set.map((s) => s.id), now);
        perSchool[id] = set.length;
      }
      const total = Object.values(perSchool).reduce((a, b) => a + b, 0);
      return { args: { since, schools }, result: { devices: perSchool }, say: `RESEND_SINCE ${since} set on ${total} device(s) of ${schools.length} school(s)` };
    },
  },
};

function usage(): string {
  return `usage: npm run admin -- <command> [options] [--by NAME] [--as EMAIL]\n${Object.values(COMMANDS).map((c) => `  ${c.usage}`).join('\n')}\n  log [--limit N]   the last admin actions\n`;
}

export async function runAdmin(argv: string[], databaseUrl: string): Promise<{ code: number; out: string }> {
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
    const said = await database.db.transaction().execute(async (trx) => {
      let staffId: number | null = null;
      if (typeof values.as === 'string') {
        const staff = await findStaffByEmail(trx, values.as.toLowerCase());
        if (!staff) throw new UsageError(`no staff account ${values.as}`);
        staffId = staff.id;
      }
      const done = await command.run({ trx, values, staffId });
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

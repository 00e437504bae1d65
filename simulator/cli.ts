// `npm run simulate -- --url http://localhost:3000 [--url …] --devices 10 --days 5 --seed 42`
// Signs in with ADMIN_EMAIL/ADMIN_PASSWORD (or --email/--password), lives the days, prints
// the checks; exits 1 when one fails, 64 on a usage error.
import { parseArgs } from 'node:util';
import { runSimulation, SIMULATION_PROTOCOLS, type Progress, type SimulationProtocol } from './run.js';

const usage = `usage: npm run simulate -- --url URL [--url URL…] [--devices N] [--days N] [--seed N]
  [--users-per-device N] [--drop RATE] [--timeout RATE] [--protocol v4|push|mixed|push3] [--email E --password P]
  Credentials default to ADMIN_EMAIL / ADMIN_PASSWORD from the environment.\n`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}`);
  process.exit(64);
}

let args;
try {
  args = parseArgs({
    options: {
      url: { type: 'string', multiple: true },
      devices: { type: 'string', default: '10' },
      days: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      'users-per-device': { type: 'string', default: '25' },
      drop: { type: 'string', default: '0.03' },
      timeout: { type: 'string', default: '0.02' },
      email: { type: 'string' },
      password: { type: 'string' },
      protocol: { type: 'string', default: 'v4' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const int = (name: string, value: string, min: number, max: number) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name}: expected an integer from ${min} to ${max}`);
  return n;
};
const rate = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 0.5) fail(`--${name}: expected a rate from 0 to 0.5`);
  return n;
};
if (!(SIMULATION_PROTOCOLS as readonly string[]).includes(args.protocol)) fail(`--protocol: expected ${SIMULATION_PROTOCOLS.join(', ')}`);
const urls = (args.url ?? []).map((u) => u.replace(/\/+$/, ''));
if (urls.length === 0) fail('--url is required');
for (const u of urls) if (!/^https?:\/\//.test(u)) fail(`--url ${u}: expected http(s)://host:port`);
const email = args.email ?? process.env.ADMIN_EMAIL;
const password = args.password ?? process.env.ADMIN_PASSWORD;
if (!email || !password) fail('credentials: set ADMIN_EMAIL and ADMIN_PASSWORD or pass --email and --password');

const bar = (p: Progress) => {
  const done = ((p.day - 1) * p.ticks + p.tick) / (p.days * p.ticks);
  const width = 24;
  const filled = Math.min(width, Math.max(0, Math.round(done * width)));
  return `\r  day ${p.day}/${p.days} ▕${'█'.repeat(filled)}${' '.repeat(width - filled)}▏ syncs ${p.syncs}  retries ${p.retries} `;
};
// The bar only on a terminal; piped output stays clean.
let lastDraw = 0;
const onProgress = process.stderr.isTTY ? (p: Progress) => {
  if (Date.now() - lastDraw < 100) return;
  lastDraw = Date.now();
  process.stderr.write(bar(p));
} : undefined;

const report = await runSimulation({
  urls, email, password,
  devices: int('devices', args.devices, 1, 10_000),
  days: int('days', args.days, 1, 60),
  seed: int('seed', args.seed, 0, 2 ** 31 - 1),
  usersPerDevice: int('users-per-device', args['users-per-device'], 1, 1_000),
  network: { drop: rate('drop', args.drop), timeout: rate('timeout', args.timeout) },
  protocol: args.protocol as SimulationProtocol,
  onProgress,
});
if (onProgress) process.stderr.write('\n');

if (args.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const f = report.figures;
  process.stdout.write(`${report.school.name} (id ${report.school.id}${report.school.reused ? ', reused' : ''}), days ${report.days[0]} … ${report.days.at(-1)}\n`);
  process.stdout.write(`  calendar: closure ${report.calendar.closure ?? 'none'}, Saturday event ${report.calendar.event ?? 'none'} (${report.counts.eventAttendees} pupils came)\n`);
  process.stdout.write(`  ${f.devices} devices, ${f.users} pupils, ${f.generated_rows} rows generated (${f.rows_expected_rejected} bad on purpose)\n`);
  process.stdout.write(`  ${f.syncs} syncs, ${f.retries} retried calls (${f.uploads_retried} uploads retried with the same bytes), ${f.processing_failed} processing failures\n`);
  const c = report.counts;
  process.stdout.write(`  pupil-days ${c.pupilDays}: ${c.absent} absent, ${c.lunchOut} out for lunch, ${c.forgottenCheckouts} forgotten check-outs, ${c.fevers} fevers, ${c.orphanCheckouts} check-outs without check-in on purpose\n`);
  process.stdout.write(`  fever alerts expected: ${f.fever_alerts_expected}\n`);
  process.stdout.write(`  anomalies expected: ${Object.entries(f.anomalies).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  if (f.rows_from_earlier_runs > 0) {
    process.stdout.write(`  ${f.rows_from_earlier_runs} rows of an earlier run were already in these days: this run sent the same events again, so the school's figures count both (another --seed gives a fresh school)\n`);
  }
  for (const check of report.checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
}
process.exit(report.ok ? 0 : 1);

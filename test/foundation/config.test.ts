// Configuration is validated at start: a wrong value stops the process with one line naming
// the variable. `envToConfig` is tested by tables; the entry points as real processes.
import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, envToConfig, readEnv, type Env } from '../../shared/config.js';
import { runScript } from '../support/processes.js';

const SECRET = 'a-jwt-secret-of-at-least-32-characters!';

/** Every variable `readEnv` knows, read back through a source that has them all. */
const KNOWN = Object.keys(readEnv(new Proxy({}, { get: () => 'x' }) as NodeJS.ProcessEnv));
/** Free-form strings: nothing to reject. */
const FREE_FORM = ['HOST', 'DATA_DIR'];

function failure(env: Env): ConfigError {
  try {
    envToConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

// [variable the error must name, environment]
const WRONG: Array<[string, Env]> = [
  ['NODE_ENV', { NODE_ENV: 'staging' }],
  ['LOG_FORMAT', { LOG_FORMAT: 'colourful' }],
  ['METRICS_TOKEN', { METRICS_TOKEN: 'short' }],
  ['WORKER_METRICS_PORT', { WORKER_METRICS_PORT: '0' }],
  ['WORKER_METRICS_PORT', { WORKER_METRICS_PORT: 'nine' }],
  ['PORT', { PORT: 'abc' }],
  ['PORT', { PORT: '-1' }],
  ['PORT', { PORT: '3000.5' }],
  ['PORT', { PORT: '65536' }],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/attendance' }],
  ['DATABASE_URL', { DATABASE_URL: 'localhost:5432' }],
  ['DATABASE_DIRECT_URL', { DATABASE_URL: 'postgres://pooler:6432/a', DATABASE_DIRECT_URL: 'localhost:5432' }],
  ['DATABASE_DIRECT_URL', { DATABASE_DIRECT_URL: 'postgres://db:5432/a' }],
  ['DATABASE_REPLICA_URL', { DATABASE_URL: 'postgres://db:5432/a', DATABASE_REPLICA_URL: 'mysql://replica/a' }],
  ['DATABASE_REPLICA_URL', { DATABASE_REPLICA_URL: 'postgres://replica:5432/a' }],
  ['JWT_SECRET', { JWT_SECRET: 'too-short' }],
  ['JWT_SECRET', { NODE_ENV: 'production' }],
  ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'admin@example.test' }],
  ['ADMIN_EMAIL', { ADMIN_PASSWORD: 'long enough password' }],
  ['ADMIN_EMAIL', { ADMIN_EMAIL: 'not an email', ADMIN_PASSWORD: 'long enough password' }],
  ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'admin@example.test', ADMIN_PASSWORD: 'short' }],
  ['DEMO_DATA', { DEMO_DATA: 'maybe' }],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
  ['API_PROCESSES', { API_PROCESSES: '0' }],
  ['API_PROCESSES', { API_PROCESSES: '257' }],
  ['API_WATCHDOG_SECONDS', { API_WATCHDOG_SECONDS: '-1' }],
  ['API_WATCHDOG_SECONDS', { API_WATCHDOG_SECONDS: '3601' }],
  ['API_WATCHDOG_FAILURES', { API_WATCHDOG_FAILURES: '0' }],
  ['WORKER_CONCURRENCY', { WORKER_CONCURRENCY: '0' }],
  ['DEVICE_TOKEN_TTL_SECONDS', { DEVICE_TOKEN_TTL_SECONDS: '29' }],
  ['STAFF_TOKEN_TTL_SECONDS', { STAFF_TOKEN_TTL_SECONDS: '1h' }],
  ['MAX_ARCHIVE_BYTES', { MAX_ARCHIVE_BYTES: '1023' }],
  ['ARCHIVE_MAX_ENTRIES', { ARCHIVE_MAX_ENTRIES: '0' }],
  ['ARCHIVE_MAX_UNCOMPRESSED_BYTES', { ARCHIVE_MAX_UNCOMPRESSED_BYTES: '1e9' }],
  ['ARCHIVE_MAX_RATIO', { ARCHIVE_MAX_RATIO: '1' }],
  ['BATCH_MAX_ROWS', { BATCH_MAX_ROWS: '0' }],
  ['BATCH_MAX_ROWS', { BATCH_MAX_ROWS: '1e6' }],
  ['IMPORT_MAX_PENDING', { IMPORT_MAX_PENDING: '0' }],
  ['IMPORT_RETRY_AFTER_SECONDS', { IMPORT_RETRY_AFTER_SECONDS: '3601' }],
  ['IMPORT_JOB_EXPIRE_SECONDS', { IMPORT_JOB_EXPIRE_SECONDS: '4' }],
  ['IMPORT_RETRY_LIMIT', { IMPORT_RETRY_LIMIT: '21' }],
  ['IMPORT_HEARTBEAT_SECONDS', { IMPORT_HEARTBEAT_SECONDS: '9' }],
  ['QUEUE_MAINTENANCE_SECONDS', { QUEUE_MAINTENANCE_SECONDS: '0' }],
  ['SYNC_STUCK_AFTER_SECONDS', { SYNC_STUCK_AFTER_SECONDS: ' 600' }],
  ['ACK_STUCK_AFTER_SECONDS', { ACK_STUCK_AFTER_SECONDS: 'soon' }],
  ['ARCHIVE_RETENTION_DAYS', { ARCHIVE_RETENTION_DAYS: '0' }],
  ['PUSH_UPLOAD_RETENTION_DAYS', { PUSH_UPLOAD_RETENTION_DAYS: '0' }],
  ['RETENTION_PACKAGE_DAYS', { RETENTION_PACKAGE_DAYS: '0' }],
  ['RETENTION_PHOTO_DAYS', { RETENTION_PHOTO_DAYS: 'forever' }],
  ['RETENTION_TEMPERATURE_DAYS', { RETENTION_TEMPERATURE_DAYS: '3651' }],
  ['RETENTION_PUNCH_MONTHS', { RETENTION_PUNCH_MONTHS: '-1' }],
  ['DB_POOL_MAX', { DB_POOL_MAX: '201' }],
  ['AUTH_MAX_FAILURES', { AUTH_MAX_FAILURES: '0' }],
  ['AUTH_MAX_ACCOUNT_FAILURES', { AUTH_MAX_ACCOUNT_FAILURES: '0' }],
  ['PUSH_COMMAND_ANSWER_SECONDS', { PUSH_COMMAND_ANSWER_SECONDS: '0' }],
  ['PUSH_COMMAND_MAX_SENDS', { PUSH_COMMAND_MAX_SENDS: 'often' }],
  ['PUSH_ROSTER_SECONDS', { PUSH_ROSTER_SECONDS: '-1' }],
  ['PUSH_MAX_IN_FLIGHT_BYTES', { PUSH_MAX_IN_FLIGHT_BYTES: '1000' }],
  ['PUSH_BODY_TIMEOUT_SECONDS', { PUSH_BODY_TIMEOUT_SECONDS: '0' }],
  ['PUSH_RATE_PER_SECOND', { PUSH_RATE_PER_SECOND: '0' }],
  ['PUSH_RATE_BURST', { PUSH_RATE_BURST: 'lots' }],
  ['PUSH_CONFLICT_WINDOW_SECONDS', { PUSH_CONFLICT_WINDOW_SECONDS: '5' }],
  ['PUBLIC_URL', { PUBLIC_URL: 'attendance.example.org' }],
  ['PASSWORD_RESET_TTL_MINUTES', { PASSWORD_RESET_TTL_MINUTES: '1' }],
  ['SMTP_URL', { SMTP_URL: 'http://mail.example.org' }],
  ['SMTP_FROM', { SMTP_FROM: 'nobody' }],
  ['AUTH_MAX_ADDRESS_FAILURES', { AUTH_MAX_ADDRESS_FAILURES: 'lots' }],
  ['TRUST_PROXY', { TRUST_PROXY: 'true' }],
  ['TRUST_PROXY', { TRUST_PROXY: 'loopback, proxy.example' }],
  ['TRUST_PROXY', { TRUST_PROXY: '11' }],
  ['UPLOAD_MAX_IN_FLIGHT_BYTES', { UPLOAD_MAX_IN_FLIGHT_BYTES: '2000', MAX_ARCHIVE_BYTES: '4000' }],
  ['DATAMART_URL', { DATAMART_URL: 'ftp://mart.example' }],
  ['DATAMART_NAME', { DATAMART_NAME: 'a name with spaces' }],
  ['DATAMART_ID_PREFIX', { DATAMART_ID_PREFIX: 'bad,prefix' }],
  ['DATAMART_COLLECT_CHUNK_SIZE', { DATAMART_COLLECT_CHUNK_SIZE: '0' }],
  ['DATAMART_EXPORT_CHUNK_SIZE', { DATAMART_EXPORT_CHUNK_SIZE: '100001' }],
  ['DATAMART_REQUEST_RETRIES', { DATAMART_REQUEST_RETRIES: 'many' }],
  ['DATAMART_REQUEST_TIMEOUT', { DATAMART_REQUEST_TIMEOUT: '0' }],
  ['DATAMART_RETRY_DELAY_MS', { DATAMART_RETRY_DELAY_MS: '60001' }],
  ['DATAMART_EMULATION', { DATAMART_EMULATION: 'off' }],
  ['DATAMART_EXPORT_CRON', { DATAMART_EXPORT_CRON: 'every 4 hours' }],
  ['DATAMART_POLL_CRON', { DATAMART_POLL_CRON: '*/30 * * *' }],
  ['DATAMART_SWEEP_CRON', { DATAMART_SWEEP_CRON: '*/10 * * * * * *' }],
  ['DATAMART_STAGE_TIMEOUT_MINUTES', { DATAMART_STAGE_TIMEOUT_MINUTES: '0' }],
];

describe('envToConfig', () => {
  test.each(WRONG)('a wrong %s stops with a ConfigError naming it (%j)', (variable, env) => {
    const err = failure(env);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  // Every variable the configuration reads comes through readEnv: PUSH_* were read by envToConfig
  // but never taken from the environment, so an operator could not set them.
  test('every variable envToConfig reads is taken from the environment', () => {
    const source = fs.readFileSync(path.resolve('shared/config.ts'), 'utf8');
    const read = [...source.matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(20);
    expect(read.filter((name) => !KNOWN.includes(name))).toEqual([]);
  });

  // A new variable fails here until it gets a case above (or is listed in FREE_FORM).
  test('every validated variable has a wrong-value case above', () => {
    const covered = new Set(WRONG.map(([variable]) => variable));
    expect(KNOWN.filter((name) => !FREE_FORM.includes(name) && !covered.has(name))).toEqual([]);
  });

  test('defaults: development, port 3000, embedded database in ./.data, demo data on, one api process', () => {
    const config = envToConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development', port: 3000, host: '0.0.0.0', databaseUrl: null, dataDir: path.resolve('.data'),
      jwtSecret: null, adminEmail: null, adminPassword: null, demoData: true, logLevel: 'info', apiProcesses: 1, apiWatchdogSeconds: 10, apiWatchdogFailures: 3,
      workerConcurrency: 4, deviceTokenTtlSeconds: 900, staffTokenTtlSeconds: 8 * 3600, maxArchiveBytes: 50 * 1024 * 1024,
      importJobExpireSeconds: 300, syncStuckAfterSeconds: 600, ackStuckAfterSeconds: 3600, archiveRetentionDays: 30, dbPoolMax: 10,
      logFormat: 'auto', metricsToken: null, workerMetricsPort: null, batchMaxRows: 1_000_000,
    });
    expect(envToConfig({ NODE_ENV: 'test' }).logLevel).toBe('silent');
  });

  test('production: JWT_SECRET required, demo data off unless asked, one api process per core', () => {
    const config = envToConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET });
    expect(config.jwtSecret).toBe(SECRET);
    expect(config.demoData).toBe(false);
    expect(config.apiProcesses).toBe(os.availableParallelism());
    expect(config.logFormat).toBe('json'); // a collector reads production logs, terminal or not
    expect(envToConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, DEMO_DATA: 'true' }).demoData).toBe(true);
    expect(envToConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, API_PROCESSES: '2' }).apiProcesses).toBe(2);
  });

  test('values are parsed: booleans in their usual spellings, the admin email lowercased, DATA_DIR made absolute', () => {
    for (const yes of ['1', 'true', 'TRUE', 'yes', 'on']) expect(envToConfig({ DEMO_DATA: yes }).demoData).toBe(true);
    for (const no of ['0', 'false', 'No', 'off']) expect(envToConfig({ DEMO_DATA: no }).demoData).toBe(false);
    const config = envToConfig({
      ADMIN_EMAIL: 'Admin@Example.TEST', ADMIN_PASSWORD: 'long enough password', DATA_DIR: 'some/dir', PORT: '0',
      DATABASE_URL: 'postgresql://u:p@db:5432/attendance',
    });
    expect(config.adminEmail).toBe('admin@example.test');
    expect(config.dataDir).toBe(path.resolve('some/dir'));
    expect(config.port).toBe(0);
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/attendance');
  });
});

test('data mart defaults: emulation without DATAMART_URL, chunks of 500, 10 retries, 10 s timeout, crons every 4 h / 30 min / 10 min', () => {
  expect(envToConfig({}).datamart).toEqual({
    url: null, name: 'attendance', idPrefix: 'att-', collectChunkSize: 500, exportChunkSize: 500, requestRetries: 10,
    requestTimeoutSeconds: 10, retryDelayMs: 1000, emulation: true, exportCron: '0 */4 * * *', pollCron: '*/30 * * * *',
    sweepCron: '*/10 * * * *', stageTimeoutMinutes: 120,
  });
  const withUrl = envToConfig({ DATAMART_URL: 'https://mart.example/api/', DATAMART_POLL_CRON: 'off', DATAMART_EXPORT_CRON: '15  2 * * 1-5' }).datamart;
  expect(withUrl).toMatchObject({ url: 'https://mart.example/api', emulation: false, pollCron: null, exportCron: '15 2 * * 1-5' });
  expect(envToConfig({ DATAMART_URL: 'http://mart.local', DATAMART_EMULATION: 'on' }).datamart.emulation).toBe(true);
});

test('data mart in production without DATAMART_URL: off (no cron), not an emulation failing every 4 hours', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: SECRET };
  expect(envToConfig(production).datamart).toMatchObject({ url: null, emulation: false, exportCron: null, pollCron: null, sweepCron: null });
  expect(envToConfig({ ...production, DATAMART_EMULATION: 'on' }).datamart).toMatchObject({ emulation: true, exportCron: '0 */4 * * *' });
  expect(failure({ ...production, DATAMART_EXPORT_CRON: '0 2 * * *' }).variable).toBe('DATAMART_EXPORT_CRON');
});

test('TRUST_PROXY: off by default, a hop count, or a list of addresses, subnets and names', () => {
  expect(envToConfig({}).trustProxy).toBe(false);
  expect(envToConfig({ TRUST_PROXY: 'off' }).trustProxy).toBe(false);
  expect(envToConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
  expect(envToConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
});

describe('readEnv', () => {
  test('reads only the known variables and treats an empty value as unset', () => {
    const env = readEnv({ PORT: '8080', LOG_LEVEL: '', PATH: '/usr/bin', HOME: '/root' });
    expect(env).toEqual({ PORT: '8080' });
    expect(KNOWN).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'DATA_DIR', 'JWT_SECRET', 'DEMO_DATA', 'LOG_LEVEL']));
  });
});

describe('entry points refuse a wrong configuration with one line naming the variable', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['api/main.ts', { PORT: 'abc' }, 'PORT'],
    ['api/main.ts', { NODE_ENV: 'production' }, 'JWT_SECRET'],
    ['api/main.ts', {}, 'DATABASE_URL'],
    ['worker/main.ts', { WORKER_CONCURRENCY: 'lots' }, 'WORKER_CONCURRENCY'],
    ['db/startup/migrate-cli.ts', { DATABASE_URL: 'mysql://nope' }, 'DATABASE_URL'],
    ['bin/start.ts', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ];
  test.concurrent.each(cases)('%s with %j names %s', async (script, env, variable) => {
    const proc = runScript(script, env);
    const { code } = await proc.waitForExit(30_000);
    expect(code).toBe(78);
    const lines = proc.stderr.filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^configuration error: ${variable}: `));
  });
});

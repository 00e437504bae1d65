// Configuration in two steps (after atproto bsync): `readEnv()` only reads strings from the
// environment, `envToConfig()` parses, applies defaults and asserts. Nothing else reads
// `process.env`; tests build a Config directly with `envToConfig({...})`.
import os from 'node:os';
import path from 'node:path';

export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  nodeEnv: NodeEnv;
  port: number;
  host: string;
  /** Unset: `npm start` runs an embedded PostgreSQL in `dataDir`. */
  databaseUrl: string | null;
  /**
   * The same database without the pooler, when DATABASE_URL is a pooler in transaction mode
   * (PgBouncer): LISTEN, migrations and the worker's per-connection work go here, and statements
   * are not prepared per connection (db/pg-statements.ts). Null: DATABASE_URL is direct.
   */
  databaseDirectUrl: string | null;
  /** A streaming replica of the database: read-only dashboard and REST reads may go there (api/context/replica.ts). Null: none. */
  databaseReplicaUrl: string | null;
  dataDir: string;
  /** Unset outside production: generated once and kept in `dataDir`. */
  jwtSecret: string | null;
  adminEmail: string | null;
  adminPassword: string | null;
  demoData: boolean;
  logLevel: string;
  /** `pretty`: readable lines for a person; `json`: one JSON object a line; `auto`: pretty on a terminal outside production. */
  logFormat: LogFormat;
  /** Bearer token for GET /metrics (and the worker's metrics port); null: metrics are off. */
  metricsToken: string | null;
  /** Port of the worker's own /metrics; null: the worker serves none. */
  workerMetricsPort: number | null;
  apiProcesses: number;
  /**
   * `npm start` asks the api's /healthz this often (and waits this long for an answer); 0: never.
   * After apiWatchdogFailures probes in a row without an answer it kills the api and starts a new one.
   */
  apiWatchdogSeconds: number;
  apiWatchdogFailures: number;
  workerConcurrency: number;
  deviceTokenTtlSeconds: number;
  staffTokenTtlSeconds: number;
  maxArchiveBytes: number;
  archiveMaxEntries: number;
  archiveMaxUncompressedBytes: number;
  archiveMaxRatio: number;
  /**
   * Rows one CSV log of a batch may carry (attendances.csv, readings.csv, messages.csv; default
   * 1,000,000). The api refuses up front, `400 archive_too_large_uncompressed`, a log whose
   * declared uncompressed size exceeds `batchMaxRows × LOG_ROW_BYTES` (logBytesLimit); the worker
   * counts the rows and reports a log that has more as `csv_invalid`, importing none of it.
   */
  batchMaxRows: number;
  importMaxPending: number;
  importRetryAfterSeconds: number;
  /** PUSH: a command without a result this long after it was sent is sent again (docs/protocol/push.md §5). */
  pushCommandAnswerSeconds: number;
  /** PUSH: sends of one command at most; then it is failed and shown to staff. */
  pushCommandMaxSends: number;
  /** PUSH: how often the worker queues roster changes as USERINFO commands. */
  pushRosterSeconds: number;
  /** PUSH: bytes of /iclock bodies one api process holds or receives at once; past it, 503 with Retry-After. */
  pushMaxInFlightBytes: number;
  /** PUSH: a body not fully received this long after its headers is cut off (408). */
  pushBodyTimeoutSeconds: number;
  /** PUSH: calls per second one serial number may make to one api process (token bucket refill); past it, 503 with Retry-After. */
  pushRatePerSecond: number;
  /** PUSH: calls one serial number may make at once before the rate applies (the bucket's size). */
  pushRateBurst: number;
  /** PUSH: a call from another address within this many seconds of the bound address's last call (and the reverse) is a conflict. */
  pushConflictWindowSeconds: number;
  importJobExpireSeconds: number;
  importRetryLimit: number;
  /** An import whose worker sent no heartbeat for this long is taken as lost and retried (default 10 s). */
  importHeartbeatSeconds: number;
  /** How often a worker's pg-boss fails jobs whose heartbeat stopped or that expired (default 5 s). */
  queueMaintenanceSeconds: number;
  syncStuckAfterSeconds: number;
  ackStuckAfterSeconds: number;
  archiveRetentionDays: number;
  /** PUSH uploads of other tables (push_uploads: options, user photos, querydata …) are deleted this many days after they arrived. */
  pushUploadRetentionDays: number;
  /** Days a package is kept after its acknowledgement, photos and temperatures after the check-in (per school: school_retention). */
  retentionPackageDays: number;
  retentionPhotoDays: number;
  retentionTemperatureDays: number;
  /** Months of punches kept whole before retention drops their month, once the data mart export covers it; 0: kept. */
  retentionPunchMonths: number;
  dbPoolMax: number;
  /** Failed sign-ins allowed per credential (an email, a device id) from one address in 15 minutes before it is slowed down. */
  authMaxFailures: number;
  /** The same per credential from every address together; a credential's known addresses are spared. */
  authMaxAccountFailures: number;
  /** Failed sign-ins allowed per client address in 15 minutes: far more, a school's devices share one NAT address; credentials known at the address are spared. */
  authMaxAddressFailures: number;
  /**
   * Express `trust proxy`: which peers may name the client's address in X-Forwarded-For. False
   * (the default): nobody, the socket's address is the client's. Otherwise a hop count or a list
   * of addresses, subnets or the names loopback, linklocal, uniquelocal (docs/SECURITY.md).
   */
  trustProxy: false | number | string[];
  /** Bytes of upload bodies one api process receives at once; beyond it, 503 server_busy. */
  uploadMaxInFlightBytes: number;
  datamart: DatamartConfig;
  /** The address devices and people reach this server at (enrolment QR codes, reset links); null: the request's own. */
  publicUrl: string | null;
  /** Minutes a password reset link works (once). */
  passwordResetTtlMinutes: number;
  /** Where reset links are e-mailed from (smtp:// or smtps:// URL with credentials); null: links are only shown to staff. */
  smtpUrl: string | null;
  smtpFrom: string;
}

/** The regional data mart export (docs/DATAMART.md). */
export interface DatamartConfig {
  /** Base URL of the mart's uploader; null: emulation only. */
  url: string | null;
  /** Sent as the `datamart` field of every upload. */
  name: string;
  /** Put in front of every exported id so ids stay unique across products. */
  idPrefix: string;
  collectChunkSize: number;
  exportChunkSize: number;
  requestRetries: number;
  requestTimeoutSeconds: number;
  /** First retry delay; each next one doubles (with jitter), capped at 60 s. */
  retryDelayMs: number;
  /** Nothing is sent: files are written under `dataDir/datamart` and marked accepted. */
  emulation: boolean;
  /** pg-boss cron expressions, or null when switched off. */
  exportCron: string | null;
  pollCron: string | null;
  sweepCron: string | null;
  stageTimeoutMinutes: number;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

export type Env = Partial<Record<string, string>>;

const VARIABLES = [
  'NODE_ENV', 'PORT', 'HOST', 'DATABASE_URL', 'DATABASE_DIRECT_URL', 'DATABASE_REPLICA_URL', 'DATA_DIR', 'JWT_SECRET', 'ADMIN_EMAIL', 'ADMIN_PASSWORD',
  'DEMO_DATA', 'LOG_LEVEL', 'LOG_FORMAT', 'METRICS_TOKEN', 'WORKER_METRICS_PORT', 'API_PROCESSES', 'API_WATCHDOG_SECONDS', 'API_WATCHDOG_FAILURES', 'WORKER_CONCURRENCY', 'DEVICE_TOKEN_TTL_SECONDS',
  'STAFF_TOKEN_TTL_SECONDS', 'MAX_ARCHIVE_BYTES', 'ARCHIVE_MAX_ENTRIES', 'ARCHIVE_MAX_UNCOMPRESSED_BYTES',
  'ARCHIVE_MAX_RATIO', 'BATCH_MAX_ROWS', 'IMPORT_MAX_PENDING', 'IMPORT_RETRY_AFTER_SECONDS', 'IMPORT_JOB_EXPIRE_SECONDS',
  'IMPORT_RETRY_LIMIT', 'IMPORT_HEARTBEAT_SECONDS', 'QUEUE_MAINTENANCE_SECONDS', 'SYNC_STUCK_AFTER_SECONDS', 'ACK_STUCK_AFTER_SECONDS', 'ARCHIVE_RETENTION_DAYS',
  'RETENTION_PACKAGE_DAYS', 'RETENTION_PHOTO_DAYS', 'RETENTION_TEMPERATURE_DAYS', 'RETENTION_PUNCH_MONTHS',
  'DB_POOL_MAX', 'AUTH_MAX_FAILURES', 'AUTH_MAX_ACCOUNT_FAILURES', 'AUTH_MAX_ADDRESS_FAILURES', 'TRUST_PROXY', 'UPLOAD_MAX_IN_FLIGHT_BYTES',
  'DATAMART_URL', 'DATAMART_NAME', 'DATAMART_ID_PREFIX', 'DATAMART_COLLECT_CHUNK_SIZE', 'DATAMART_EXPORT_CHUNK_SIZE',
  'DATAMART_REQUEST_RETRIES', 'DATAMART_REQUEST_TIMEOUT', 'DATAMART_RETRY_DELAY_MS', 'DATAMART_EMULATION', 'DATAMART_EXPORT_CRON',
  'DATAMART_POLL_CRON', 'DATAMART_SWEEP_CRON', 'DATAMART_STAGE_TIMEOUT_MINUTES',
  'PUSH_COMMAND_ANSWER_SECONDS', 'PUSH_COMMAND_MAX_SENDS', 'PUSH_ROSTER_SECONDS', 'PUSH_MAX_IN_FLIGHT_BYTES', 'PUSH_BODY_TIMEOUT_SECONDS',
  'PUSH_RATE_PER_SECOND', 'PUSH_RATE_BURST', 'PUSH_CONFLICT_WINDOW_SECONDS', 'PUSH_UPLOAD_RETENTION_DAYS',
  'PUBLIC_URL', 'PASSWORD_RESET_TTL_MINUTES', 'SMTP_URL', 'SMTP_FROM',
] as const;

/** The only place that reads `process.env`. */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const env: Env = {};
  for (const name of VARIABLES) {
    const value = source[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return env;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

function integer(env: Env, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

const MiB = 1024 * 1024;

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const IPV4_OR_CIDR = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;
const IPV6_OR_CIDR = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(\/\d{1,3})?$/;

/** TRUST_PROXY: unset or `off` → false; `1`..`10` → hops; else a comma list of addresses, subnets or names. */
function trustProxy(env: Env): false | number | string[] {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || ['off', 'false', 'no', '0', ''].includes(raw.toLowerCase())) return false;
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 1, 10);
  if (['true', 'on', 'yes', 'all'].includes(raw.toLowerCase())) {
    throw new ConfigError('TRUST_PROXY', 'trusting every peer lets any client choose its address: name the proxies (addresses, subnets, loopback) or a hop count');
  }
  const items = raw.split(',').map((i) => i.trim()).filter((i) => i !== '');
  for (const item of items) {
    if (!PROXY_NAMES.includes(item) && !IPV4_OR_CIDR.test(item) && !IPV6_OR_CIDR.test(item)) {
      throw new ConfigError('TRUST_PROXY', `"${item}" is not an address, a subnet or one of ${PROXY_NAMES.join(', ')}`);
    }
  }
  return items;
}

/** Five cron fields (minute hour day month weekday) as pg-boss takes them, or `off`. */
function cron(env: Env, name: string, fallback: string): string | null {
  const raw = env[name]?.trim() ?? fallback;
  if (raw.toLowerCase() === 'off') return null;
  if (!/^[\d*/,\-A-Za-z]+( [\d*/,\-A-Za-z]+){4}$/.test(raw.replace(/\s+/g, ' '))) {
    throw new ConfigError(name, `expected a cron expression of five fields or "off", got "${raw}"`);
  }
  return raw.replace(/\s+/g, ' ');
}

/**
 * Without DATAMART_URL the export is emulated (files under DATA_DIR/datamart), except in
 * production: there it is off (no cron) unless DATAMART_EMULATION=on, since an image's DATA_DIR
 * is not writable and an emulated export there only fails every 4 hours.
 */
function datamartConfig(env: Env, production: boolean): DatamartConfig {
  const url = env.DATAMART_URL ?? null;
  if (url !== null && !/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError('DATAMART_URL', 'expected an http:// or https:// URL');
  const emulation = boolean(env, 'DATAMART_EMULATION', url === null && !production);
  if (!emulation && url === null && env.DATAMART_EMULATION !== undefined) throw new ConfigError('DATAMART_EMULATION', 'can only be off when DATAMART_URL is set');
  const off = !emulation && url === null;
  if (off) {
    for (const name of ['DATAMART_EXPORT_CRON', 'DATAMART_POLL_CRON', 'DATAMART_SWEEP_CRON']) {
      if (env[name] !== undefined && env[name]!.trim().toLowerCase() !== 'off') throw new ConfigError(name, 'needs DATAMART_URL (or DATAMART_EMULATION=on)');
    }
  }
  const idPrefix = env.DATAMART_ID_PREFIX ?? 'att-';
  if (!/^[A-Za-z0-9_.:-]{0,32}$/.test(idPrefix)) throw new ConfigError('DATAMART_ID_PREFIX', 'up to 32 letters, digits, "_", ".", ":" or "-"');
  const name = env.DATAMART_NAME ?? 'attendance';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ConfigError('DATAMART_NAME', 'up to 64 letters, digits, "_", "." or "-"');
  return {
    url: url?.replace(/\/+$/, '') ?? null,
    name,
    idPrefix,
    collectChunkSize: integer(env, 'DATAMART_COLLECT_CHUNK_SIZE', 500, 1, 100_000),
    exportChunkSize: integer(env, 'DATAMART_EXPORT_CHUNK_SIZE', 500, 1, 100_000),
    requestRetries: integer(env, 'DATAMART_REQUEST_RETRIES', 10, 0, 100),
    requestTimeoutSeconds: integer(env, 'DATAMART_REQUEST_TIMEOUT', 10, 1, 600),
    retryDelayMs: integer(env, 'DATAMART_RETRY_DELAY_MS', 1000, 1, 60_000),
    emulation,
    exportCron: off ? null : cron(env, 'DATAMART_EXPORT_CRON', '0 */4 * * *'),
    pollCron: off ? null : cron(env, 'DATAMART_POLL_CRON', '*/30 * * * *'),
    sweepCron: off ? null : cron(env, 'DATAMART_SWEEP_CRON', '*/10 * * * *'),
    stageTimeoutMinutes: integer(env, 'DATAMART_STAGE_TIMEOUT_MINUTES', 120, 1, 7 * 24 * 60),
  };
}

export function envToConfig(env: Env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';

  const databaseUrl = env.DATABASE_URL ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const databaseDirectUrl = env.DATABASE_DIRECT_URL ?? null;
  const databaseReplicaUrl = env.DATABASE_REPLICA_URL ?? null;
  for (const [name, value] of [['DATABASE_DIRECT_URL', databaseDirectUrl], ['DATABASE_REPLICA_URL', databaseReplicaUrl]] as const) {
    if (value === null) continue;
    if (!/^postgres(ql)?:\/\//.test(value)) throw new ConfigError(name, 'expected a postgres:// or postgresql:// URL');
    if (databaseUrl === null) throw new ConfigError(name, 'needs DATABASE_URL (it is another way to the same database)');
  }
  const jwtSecret = env.JWT_SECRET ?? null;
  if (production && jwtSecret === null) throw new ConfigError('JWT_SECRET', 'required when NODE_ENV=production');
  if (jwtSecret !== null && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters (256 bits of randomness recommended)');
  }
  const adminEmail = env.ADMIN_EMAIL ?? null;
  const adminPassword = env.ADMIN_PASSWORD ?? null;
  if ((adminEmail === null) !== (adminPassword === null)) {
    throw new ConfigError(adminEmail === null ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD', 'ADMIN_EMAIL and ADMIN_PASSWORD go together');
  }
  if (adminEmail !== null && !/^[^\s@]+@[^\s@]+$/.test(adminEmail)) throw new ConfigError('ADMIN_EMAIL', 'not an email address');
  if (adminPassword !== null && adminPassword.length < 8) throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');

  const logLevel = oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    nodeEnv === 'test' ? 'silent' : 'info');

  // In production the logs go to a collector, whatever the terminal.
  const logFormat = oneOf(env, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, production ? 'json' : 'auto');
  const metricsToken = env.METRICS_TOKEN ?? null;
  if (metricsToken !== null && metricsToken.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');

  const importJobExpireSeconds = integer(env, 'IMPORT_JOB_EXPIRE_SECONDS', 300, 5, 86_400);
  const maxArchiveBytes = integer(env, 'MAX_ARCHIVE_BYTES', 50 * MiB, 1024, 1024 * MiB);
  // Default: four archives of the largest size at once per process (200 MiB with the defaults).
  const uploadMaxInFlightBytes = integer(env, 'UPLOAD_MAX_IN_FLIGHT_BYTES', 4 * maxArchiveBytes, 1024, 16 * 1024 * MiB);
  if (uploadMaxInFlightBytes < maxArchiveBytes) {
    throw new ConfigError('UPLOAD_MAX_IN_FLIGHT_BYTES', `must be at least MAX_ARCHIVE_BYTES (${maxArchiveBytes}), or no archive of the largest size could ever be received`);
  }
  const syncStuckAfterSeconds = integer(env, 'SYNC_STUCK_AFTER_SECONDS', 600, 5);
  const publicUrl = env.PUBLIC_URL ?? null;
  if (publicUrl !== null && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(publicUrl)) throw new ConfigError('PUBLIC_URL', 'expected an http:// or https:// URL');
  const smtpUrl = env.SMTP_URL ?? null;
  if (smtpUrl !== null && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) throw new ConfigError('SMTP_URL', 'expected an smtp:// or smtps:// URL');
  const smtpFrom = env.SMTP_FROM ?? 'attendance-sync <no-reply@localhost>';
  if (!/@/.test(smtpFrom)) throw new ConfigError('SMTP_FROM', 'expected an e-mail address');

  return {
    nodeEnv,
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host: env.HOST ?? '0.0.0.0',
    databaseUrl,
    databaseDirectUrl,
    databaseReplicaUrl,
    dataDir: path.resolve(env.DATA_DIR ?? './.data'),
    jwtSecret,
    adminEmail: adminEmail?.toLowerCase() ?? null,
    adminPassword,
    demoData: boolean(env, 'DEMO_DATA', !production),
    logLevel,
    logFormat,
    metricsToken,
    workerMetricsPort: env.WORKER_METRICS_PORT === undefined ? null : integer(env, 'WORKER_METRICS_PORT', 0, 1, 65_535),
    apiProcesses: integer(env, 'API_PROCESSES', production ? os.availableParallelism() : 1, 1, 256),
    apiWatchdogSeconds: integer(env, 'API_WATCHDOG_SECONDS', 10, 0, 3600),
    apiWatchdogFailures: integer(env, 'API_WATCHDOG_FAILURES', 3, 1, 100),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 4, 1, 64),
    deviceTokenTtlSeconds: integer(env, 'DEVICE_TOKEN_TTL_SECONDS', 900, 30, 86_400),
    staffTokenTtlSeconds: integer(env, 'STAFF_TOKEN_TTL_SECONDS', 8 * 3600, 60, 7 * 86_400),
    maxArchiveBytes,
    archiveMaxEntries: integer(env, 'ARCHIVE_MAX_ENTRIES', 500, 1, 100_000),
    archiveMaxUncompressedBytes: integer(env, 'ARCHIVE_MAX_UNCOMPRESSED_BYTES', 512 * MiB, 1024, 4096 * MiB),
    archiveMaxRatio: integer(env, 'ARCHIVE_MAX_RATIO', 200, 2, 10_000),
    batchMaxRows: integer(env, 'BATCH_MAX_ROWS', 1_000_000, 1, 100_000_000),
    importMaxPending: integer(env, 'IMPORT_MAX_PENDING', 2000, 1),
    importRetryAfterSeconds: integer(env, 'IMPORT_RETRY_AFTER_SECONDS', 30, 1, 3600),
    pushCommandAnswerSeconds: integer(env, 'PUSH_COMMAND_ANSWER_SECONDS', 120, 1, 86_400),
    pushCommandMaxSends: integer(env, 'PUSH_COMMAND_MAX_SENDS', 3, 1, 100),
    pushRosterSeconds: integer(env, 'PUSH_ROSTER_SECONDS', 10, 1, 3600),
    pushMaxInFlightBytes: integer(env, 'PUSH_MAX_IN_FLIGHT_BYTES', 64 * 1024 * 1024, 1024 * 1024, 16 * 1024 * 1024 * 1024),
    pushBodyTimeoutSeconds: integer(env, 'PUSH_BODY_TIMEOUT_SECONDS', 30, 1, 3600),
    pushRatePerSecond: integer(env, 'PUSH_RATE_PER_SECOND', 10, 1, 10_000),
    pushRateBurst: integer(env, 'PUSH_RATE_BURST', 100, 1, 100_000),
    pushConflictWindowSeconds: integer(env, 'PUSH_CONFLICT_WINDOW_SECONDS', 600, 10, 86_400),
    importJobExpireSeconds,
    importRetryLimit: integer(env, 'IMPORT_RETRY_LIMIT', 3, 0, 20),
    // pg-boss refuses heartbeats under 10 s.
    importHeartbeatSeconds: integer(env, 'IMPORT_HEARTBEAT_SECONDS', 10, 10, 3600),
    queueMaintenanceSeconds: integer(env, 'QUEUE_MAINTENANCE_SECONDS', 5, 1, 3600),
    syncStuckAfterSeconds,
    ackStuckAfterSeconds: integer(env, 'ACK_STUCK_AFTER_SECONDS', 3600, 5),
    archiveRetentionDays: integer(env, 'ARCHIVE_RETENTION_DAYS', 30, 1, 3650),
    pushUploadRetentionDays: integer(env, 'PUSH_UPLOAD_RETENTION_DAYS', 30, 1, 3650),
    retentionPackageDays: integer(env, 'RETENTION_PACKAGE_DAYS', 7, 1, 3650),
    retentionPhotoDays: integer(env, 'RETENTION_PHOTO_DAYS', 30, 1, 3650),
    retentionTemperatureDays: integer(env, 'RETENTION_TEMPERATURE_DAYS', 30, 1, 3650),
    retentionPunchMonths: integer(env, 'RETENTION_PUNCH_MONTHS', 0, 0, 1200),
    dbPoolMax: integer(env, 'DB_POOL_MAX', 10, 1, 200),
    authMaxFailures: integer(env, 'AUTH_MAX_FAILURES', 10, 1, 1000),
    authMaxAccountFailures: integer(env, 'AUTH_MAX_ACCOUNT_FAILURES', 50, 1, 100_000),
    authMaxAddressFailures: integer(env, 'AUTH_MAX_ADDRESS_FAILURES', 200, 1, 100_000),
    trustProxy: trustProxy(env),
    uploadMaxInFlightBytes,
    datamart: datamartConfig(env, production),
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    passwordResetTtlMinutes: integer(env, 'PASSWORD_RESET_TTL_MINUTES', 60, 5, 7 * 24 * 60),
    smtpUrl,
    smtpFrom,
  };
}

/** Reads and validates the environment, or prints one line naming the variable and exits. */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): Config {
  try {
    return envToConfig(readEnv(source));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

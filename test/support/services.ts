// Real services for tests: an api on a free port and a worker, both on a suite database.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import { envToConfig, type Config, type Env } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { createSuiteDatabase, directUrl } from './database.js';

export async function testConfig(env: Env = {}): Promise<Config> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'attendance-suite-'));
  return envToConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, JWT_SECRET: 'test-secret-that-is-long-enough-0123456789', ...env });
}

export interface TestStack {
  config: Config;
  databaseUrl: string;
  api: RunningApi;
  worker: RunningWorker | null;
  url: string;
  stop(): Promise<void>;
}

export async function startStack(opts: { env?: Env; worker?: boolean; databaseUrl?: string } = {}): Promise<TestStack> {
  const databaseUrl = opts.databaseUrl ?? (await createSuiteDatabase());
  // Under TEST_POOLER=1 the services reach the database through PgBouncer (database.ts).
  const direct = directUrl(databaseUrl);
  const config = await testConfig({ ...(direct !== databaseUrl && { DATABASE_URL: databaseUrl, DATABASE_DIRECT_URL: direct }), ...opts.env });
  const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const api = await startApi(config, databaseUrl, logger);
  const worker = opts.worker ? await startWorker(config, databaseUrl, logger) : null;
  return {
    config, databaseUrl, api, worker, url: api.url,
    async stop() {
      await worker?.stop();
      await api.stop();
      await fs.rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

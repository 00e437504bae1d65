// One api process: connects, builds the app, listens, and closes everything on stop.
import http from 'node:http';
import { connectDatabase } from '../db/database.js';
import { isMigrated } from '../db/migrator.js';
import { createBoss } from '../db/queue.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { resolveJwtSecret } from './auth/jwt-secret.js';
import { deriveKeys } from './auth/tokens.js';
import { createApp } from './app.js';
import type { AppContext } from './context.js';

export interface RunningApi {
  server: http.Server;
  ctx: AppContext;
  url: string;
  stop(): Promise<void>;
}

export async function startApi(config: Config, databaseUrl: string, logger: Logger): Promise<RunningApi> {
  const database = connectDatabase(databaseUrl, { max: config.dbPoolMax, logger, applicationName: 'attendance-api' });
  const boss = createBoss(databaseUrl, { logger, role: 'api' });
  await boss.start();
  const keys = deriveKeys(await resolveJwtSecret(config));
  const ctx: AppContext = { config, db: database.db, boss, logger, keys, readiness: { migrated: await isMigrated(database.db).catch(() => false) } };
  const { app } = createApp(ctx);
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

  let stopping: Promise<void> | null = null;
  return {
    server,
    ctx,
    url,
    stop() {
      stopping ??= (async () => {
        // Stop taking requests, let those in flight finish, then release connections.
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        });
        await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
        await database.close();
      })();
      return stopping;
    },
  };
}

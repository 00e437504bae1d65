// One api process: connects, builds the app, listens, and closes everything on stop.
import http from 'node:http';
import type { Express } from 'express';
import { prepareRepeatedStatements } from '../db/pg-statements.js';
import { connectDatabase } from '../db/database.js';
import { isMigrated } from '../db/migrator.js';
import { createBoss, discardBoss } from '../db/queue.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { resolveJwtSecret } from './auth/jwt-secret.js';
import { deriveKeys } from './auth/tokens.js';
import { createApp } from './app.js';
import type { AppContext } from './context/context.js';
import { BacklogGauge } from './context/backlog.js';
import { PollCache } from './context/poll-cache.js';
import { StatusWaits } from './context/status-waits.js';
import { ReplicaReads } from './context/replica.js';

export interface RunningApi {
  server: http.Server;
  /** The express application: the server's listener, for every route. */
  app: Express;
  ctx: AppContext;
  url: string;
  stop(): Promise<void>;
}

export async function startApi(config: Config, databaseUrl: string, logger: Logger): Promise<RunningApi> {
  // Behind a pooler in transaction mode (DATABASE_DIRECT_URL set) a connection's prepared
  // statements are not its own: none are prepared, and LISTEN goes to the database directly.
  const directUrl = config.databaseDirectUrl ?? databaseUrl;
  if (config.databaseDirectUrl === null) prepareRepeatedStatements(); // db/pg-statements.ts: parsed once per connection
  const database = connectDatabase(databaseUrl, { max: config.dbPoolMax, logger, applicationName: 'attendance-api' });
  const keys = deriveKeys(await resolveJwtSecret(config));
  const ctx: AppContext = {
    config, db: database.db, boss: createBoss(databaseUrl, { logger, role: 'api' }), logger, keys,
    backlog: new BacklogGauge(database.db, config.importMaxPending),
    push: new PollCache(database.db, logger),
    statusWaits: new StatusWaits(logger),
    replica: new ReplicaReads(database.db, config.databaseReplicaUrl, logger, config.dbPoolMax),
    readiness: { migrated: await isMigrated(database.db).catch(() => false), queue: false },
  };
  const queue = keepStartingQueue(ctx, databaseUrl);
  await queue.firstAttempt;
  await ctx.push.start(directUrl);
  await ctx.statusWaits.start(directUrl);
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
    app,
    ctx,
    url,
    stop() {
      stopping ??= (async () => {
        // Stop taking requests, let those in flight finish, then release connections. Devices
        // waiting on status?wait=N are answered now (with the status read again), not after N s.
        const waitsStopped = ctx.statusWaits.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 10_000).unref();
        });
        await waitsStopped;
        await queue.stop();
        await ctx.push.stop();
        await ctx.boss.stop({ graceful: false, close: true }).catch(() => undefined);
        await ctx.replica.close();
        await database.close();
      })();
      return stopping;
    },
  };
}

/**
 * The api's pg-boss only sends jobs, but it cannot start before its schema exists (the api
 * may start before `npm run migrate`) or while the database is down. The api listens anyway,
 * /healthz answers 503, and the start is retried in the background. A PgBoss whose start
 * failed cannot be started again, so each attempt uses a new one.
 */
function keepStartingQueue(ctx: AppContext, databaseUrl: string): { firstAttempt: Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let attempts = 0;
  let current: Promise<void> = Promise.resolve();
  const attempt = async (): Promise<void> => {
    attempts++;
    try {
      await ctx.boss.start();
      ctx.readiness.queue = true;
      if (attempts > 1) ctx.logger.info('job queue ready');
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message, attempts }, 'job queue not ready: retrying');
      await discardBoss(ctx.boss);
      ctx.boss = createBoss(databaseUrl, { logger: ctx.logger, role: 'api' });
      if (!stopped) timer = setTimeout(() => { current = attempt(); }, Math.min(10_000, 1000 * attempts));
    }
  };
  current = attempt();
  return {
    firstAttempt: current,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
      clearTimeout(timer);
    },
  };
}

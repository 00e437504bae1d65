// What every route handler may use: configuration, the database, the queue, the logger, keys.
import type { Db } from '../../db/database.js';
import type { PgBoss } from '../../db/queue.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import type { TokenKeys } from '../auth/tokens.js';
import type { PollCache } from './poll-cache.js';
import type { BacklogGauge } from './backlog.js';
import type { StatusWaits } from './status-waits.js';
import type { ReplicaReads } from './replica.js';

export interface AppContext {
  config: Config;
  db: Db;
  /** Replaced while the api waits for the queue to become ready (see api/server.ts). */
  boss: PgBoss;
  logger: Logger;
  keys: TokenKeys;
  /** The import backlog against IMPORT_MAX_PENDING, for uploads. */
  backlog: BacklogGauge;
  /** PUSH terminals: idle polls answered from memory, lookups cached (api/context/poll-cache.ts). */
  push: PollCache;
  /** Devices waiting on `status?wait=N`, woken by NOTIFY sync_status (api/context/status-waits.ts). */
  statusWaits: StatusWaits;
  /** Read-only routes' reads: on the replica when one is set up and caught up, else the primary (api/context/replica.ts). */
  replica: ReplicaReads;
  /** Set once migrations are known to be applied and pg-boss has started; /healthz answers 503 before. */
  readiness: { migrated: boolean; queue: boolean };
}

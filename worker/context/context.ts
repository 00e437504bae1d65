// What every worker job and data mart step works with (like api/context/context.ts for the api).
import type { Db } from '../../db/database.js';
import type { PgBoss } from '../../db/queue.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';

export interface WorkerContext {
  config: Config;
  db: Db;
  boss: PgBoss;
  logger: Logger;
}

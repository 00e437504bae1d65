// Brings a database up to date: our migrations, then pg-boss's schema and our queues.
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { connectDatabase } from './database.js';
import { migrateToLatest } from './migrator.js';
import { createBoss, ensureQueues } from './queue.js';

export async function prepareDatabase(config: Config, url: string, logger: Logger): Promise<string[]> {
  const database = connectDatabase(url, { max: 2, logger, applicationName: 'attendance-migrate' });
  try {
    const applied = await migrateToLatest(database.db);
    const boss = createBoss(url, { logger, role: 'migrate', max: 2 });
    await boss.start();
    try {
      await ensureQueues(boss, config);
    } finally {
      await boss.stop({ graceful: false, close: true });
    }
    return applied;
  } finally {
    await database.close();
  }
}

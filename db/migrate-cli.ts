// `npm run migrate` applies every pending migration; `npm run migrate -- down` rolls back the last one.
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { connectDatabase } from './database.js';
import { migrateDown } from './migrator.js';
import { prepareDatabase } from './setup.js';

const config = loadConfigOrExit();
const logger = createLogger('migrate', config.logLevel === 'silent' ? 'silent' : 'info');
if (!config.databaseUrl) {
  process.stderr.write('configuration error: DATABASE_URL: required for npm run migrate\n');
  process.exit(78);
}
const direction = process.argv[2] ?? 'latest';
if (direction === 'down') {
  const database = connectDatabase(config.databaseUrl, { max: 1, logger, applicationName: 'attendance-migrate' });
  const undone = await migrateDown(database.db).finally(() => database.close());
  process.stdout.write(undone.length ? `rolled back ${undone.join(', ')}\n` : 'nothing to roll back\n');
} else if (direction === 'latest' || direction === 'up') {
  const applied = await prepareDatabase(config, config.databaseUrl, logger);
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'already up to date\n');
} else {
  process.stderr.write(`usage: npm run migrate [-- up|down]\n`);
  process.exit(64);
}

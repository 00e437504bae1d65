// `npm run migrate` applies every pending migration, then creates the ADMIN_EMAIL backoffice
// account if no backoffice account exists (production has no `npm start` to do it);
// `npm run migrate -- down` rolls back the last migration.
import { loadConfigOrExit } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { ensureAdmin } from './bootstrap.js';
import { connectDatabase } from '../database.js';
import { migrateDown } from '../migrator.js';
import { prepareDatabase } from '../setup.js';

const config = loadConfigOrExit();
const logger = createLogger('migrate', config.logLevel === 'silent' ? 'silent' : 'info', config.logFormat);
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
  if (config.adminEmail) {
    const database = connectDatabase(config.databaseUrl, { max: 1, logger, applicationName: 'attendance-migrate' });
    const created = await ensureAdmin(database.db, config).finally(() => database.close());
    if (created) process.stdout.write(`backoffice account ${created} created\n`);
  }
} else {
  process.stderr.write(`usage: npm run migrate [-- up|down]\n`);
  process.exit(64);
}

// `npm run migrate` applies every pending migration, then creates the ADMIN_EMAIL backoffice
// account if no backoffice account exists (production has no `npm start` to do it);
// `npm run migrate -- down` rolls back the last migration, unless that would delete rows.
import { loadConfigOrExit } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { ensureAdmin } from './bootstrap.js';
import { connectDatabase } from '../database.js';
import { migrateDown } from '../migrator.js';
import { DownLosesData, SchemaTooNew, schemaStateAt } from '../schema-version.js';
import { prepareDatabase } from '../setup.js';

const config = loadConfigOrExit();
const logger = createLogger('migrate', config.logLevel === 'silent' ? 'silent' : 'info', config.logFormat);
if (!config.databaseUrl) {
  process.stderr.write('configuration error: DATABASE_URL: required for npm run migrate\n');
  process.exit(78);
}
const direction = process.argv[2] ?? 'latest';
// A newer version migrated this database (an image rolled back): nothing to apply when this
// version can run on it, else refuse with one line (db/schema-version.ts).
const state = await schemaStateAt(config.databaseUrl, logger);
if (state !== null && state.unknown.length > 0) {
  if (!state.compatible) {
    process.stderr.write(`schema error: ${new SchemaTooNew(state).message}\n`);
    process.exit(78);
  }
  process.stdout.write(`the database schema is ahead of this version (${state.unknown.join(', ')}: additive), which runs on it: nothing to ${direction === 'down' ? 'roll back here (use the newer version\'s migrate)' : 'apply'}\n`);
  process.exit(0);
}
if (direction === 'down') {
  const database = connectDatabase(config.databaseDirectUrl ?? config.databaseUrl, { max: 1, logger, applicationName: 'attendance-migrate' });
  try {
    const undone = await migrateDown(database.db);
    process.stdout.write(undone.length ? `rolled back ${undone.join(', ')}\n` : 'nothing to roll back\n');
  } catch (err) {
    if (!(err instanceof DownLosesData)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 65; // EX_DATAERR
  } finally {
    await database.close();
  }
} else if (direction === 'latest' || direction === 'up') {
  // Migrations take locks and run long statements: never through a pooler (DATABASE_DIRECT_URL).
  const applied = await prepareDatabase(config, config.databaseDirectUrl ?? config.databaseUrl, logger);
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

// `npm run worker`: the isolated worker (no public HTTP). Needs DATABASE_URL.
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { installCrashHandlers, onShutdown, stopWithSupervisor } from '../runtime/process.js';
import { startWorker } from './worker.js';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.logLevel, config.logFormat);
installCrashHandlers(logger);
if (!config.databaseUrl) {
  process.stderr.write('configuration error: DATABASE_URL: required for npm run worker\n');
  process.exit(78);
}
const worker = await startWorker(config, config.databaseUrl, logger);
logger.info('worker started');
onShutdown(logger, () => worker.stop());
stopWithSupervisor(logger);

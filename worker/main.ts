// `npm run worker`: the isolated worker (no public HTTP). Needs DATABASE_URL.
import { refuseNewerSchema } from '../db/schema-version.js';
import { loadConfigOrExit } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { installCrashHandlers, onShutdown, stopWithSupervisor } from '../runtime/process.js';
import { VERSION } from '../shared/version.js';
import { startHeartbeat } from './heartbeat.js';
import { startWorker } from './worker.js';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.logLevel, config.logFormat);
installCrashHandlers(logger);
if (!config.databaseUrl) {
  process.stderr.write('configuration error: DATABASE_URL: required for npm run worker\n');
  process.exit(78);
}
await refuseNewerSchema(config.databaseUrl, logger);
const worker = await startWorker(config, config.databaseUrl, logger);
const stopHeartbeat = startHeartbeat(worker);
// Before the line that says it started: a SIGTERM sent on seeing that line must find the handler.
onShutdown(logger, () => { stopHeartbeat(); return worker.stop(); });
logger.info({ version: VERSION }, 'worker started');
stopWithSupervisor(logger);

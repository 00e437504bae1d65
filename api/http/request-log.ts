// One structured log line per request: method, path, status, duration. Answers that went well
// are logged at debug when a person reads the logs (LOG_FORMAT pretty/auto at a terminal): a
// dashboard polls several times a second and would bury everything else.
import { pinoHttp } from 'pino-http';
import type { Config } from '../../shared/config.js';
import { isPretty, type Logger } from '../../shared/logger.js';

export function requestLog(logger: Logger, config: Pick<Config, 'logFormat'>) {
  const okLevel = isPretty(config.logFormat) ? 'debug' : 'info';
  return pinoHttp({
    logger,
    quietReqLogger: true,
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : okLevel),
    serializers: {
      req: (req) => ({ method: req.method, path: String(req.url).split('?')[0] }),
      res: (res) => ({ status: res.statusCode }),
    },
    customSuccessMessage: (req, res, ms) => `${req.method} ${String(req.url).split('?')[0]} ${res.statusCode} ${Math.round(ms)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${String(req.url).split('?')[0]} ${res.statusCode}`,
  });
}

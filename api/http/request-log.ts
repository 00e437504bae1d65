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

/**
 * The same line for a request answered outside express (api/http/device-routes.ts): pino-http's
 * level rule, fields and message. At LOG_LEVEL=warn a successful call writes nothing.
 */
export function logRequest(logger: Logger, config: Pick<Config, 'logFormat'>, line: { method: string; path: string; status: number; ms: number; err?: unknown }): void {
  const level = line.err || line.status >= 500 ? 'error' : line.status >= 400 ? 'warn' : isPretty(config.logFormat) ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const fields = { req: { method: line.method, path: line.path }, res: { status: line.status }, responseTime: line.ms, ...(line.err ? { err: line.err } : {}) };
  const msg = line.err || line.status >= 500 ? `${line.method} ${line.path} ${line.status}` : `${line.method} ${line.path} ${line.status} ${Math.round(line.ms)}ms`;
  logger[level](fields, msg);
}

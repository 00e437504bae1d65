// One structured log line per request: method, path, status, duration. Answers that went well
// are logged at debug when a person reads the logs (LOG_FORMAT pretty/auto at a terminal): a
// dashboard polls several times a second and would bury everything else.
// Every request has an id (`reqId` in its log line, `X-Request-Id` in its answer): the caller's
// X-Request-Id when it is a plain token (a proxy's, docs/OPERATIONS.md), else a new UUID.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import type { Config } from '../../shared/config.js';
import { isPretty, type Logger } from '../../shared/logger.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id, given once per request (api/server.ts calls it first) and sent back as `X-Request-Id`. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const known = (req as IncomingMessage & { id?: unknown }).id;
  if (typeof known === 'string') return known;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  if (!res.headersSent) res.setHeader('X-Request-Id', id);
  return id;
}

export function requestLog(logger: Logger, config: Pick<Config, 'logFormat'>) {
  const okLevel = isPretty(config.logFormat) ? 'debug' : 'info';
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: requestId,
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
export function logRequest(logger: Logger, config: Pick<Config, 'logFormat'>, line: { method: string; path: string; status: number; ms: number; reqId?: string; err?: unknown }): void {
  const level = line.err || line.status >= 500 ? 'error' : line.status >= 400 ? 'warn' : isPretty(config.logFormat) ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const fields = { ...(line.reqId ? { reqId: line.reqId } : {}), req: { method: line.method, path: line.path }, res: { status: line.status }, responseTime: line.ms, ...(line.err ? { err: line.err } : {}) };
  const msg = line.err || line.status >= 500 ? `${line.method} ${line.path} ${line.status}` : `${line.method} ${line.path} ${line.status} ${Math.round(line.ms)}ms`;
  logger[level](fields, msg);
}

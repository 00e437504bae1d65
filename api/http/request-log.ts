// One structured log line per request: method, path, status, duration. Answers that went well
// are logged at debug when a person reads the logs (LOG_FORMAT pretty/auto at a terminal): a
// dashboard polls several times a second and would bury everything else.
// The line is pino-http's (fields, level rule, messages) written by the project itself: pino-http
// made two child loggers per request, which with express's other per-request work was a
// measurable share of the api's CPU per device sync (issue #21, docs/ARCHITECTURE.md).
// Every request has an id (`reqId` in its log line, `X-Request-Id` in its answer): the caller's
// X-Request-Id when it is a plain token (a proxy's, docs/OPERATIONS.md), else a new UUID.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Config } from '../../shared/config.js';
import { isPretty, type Logger } from '../../shared/logger.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id, given once per request and sent back as `X-Request-Id`. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const known = (req as IncomingMessage & { id?: unknown }).id;
  if (typeof known === 'string') return known;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  if (!res.headersSent) res.setHeader('X-Request-Id', id);
  return id;
}

/** First of the app's middleware, so that every answer (/iclock's too) carries its id. */
export function requestIds(): RequestHandler {
  return (req, res, next) => {
    requestId(req, res);
    next();
  };
}

export function requestLog(logger: Logger, config: Pick<Config, 'logFormat'>): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const reqId = requestId(req, res);
    const method = req.method;
    const url = req.originalUrl;
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      res.off('finish', record);
      res.off('close', record);
      const q = url.indexOf('?');
      logRequest(logger, config, {
        reqId, method, path: q < 0 ? url : url.slice(0, q), status: res.statusCode, ms: performance.now() - started, err: res.locals.failure,
      });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

/**
 * The line itself: at error for a failure or a 5xx (with the error, or one naming the status),
 * warn for a 4xx, info (debug when pretty) otherwise. At LOG_LEVEL=warn a successful call writes nothing.
 */
export function logRequest(logger: Logger, config: Pick<Config, 'logFormat'>, line: { reqId: string; method: string; path: string; status: number; ms: number; err?: unknown }): void {
  const failed = Boolean(line.err) || line.status >= 500;
  const level = failed ? 'error' : line.status >= 400 ? 'warn' : isPretty(config.logFormat) ? 'debug' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const fields = {
    reqId: line.reqId, req: { method: line.method, path: line.path }, res: { status: line.status }, responseTime: Math.round(line.ms),
    ...(failed ? { err: line.err ?? new Error(`failed with status code ${line.status}`) } : {}),
  };
  const msg = failed ? `${line.method} ${line.path} ${line.status}` : `${line.method} ${line.path} ${line.status} ${Math.round(line.ms)}ms`;
  logger[level](fields, msg);
}

// The last middleware: renders every error as application/problem+json. Problems pass as
// they are; known library and database errors are translated; anything else is a logged
// 500 whose message reaches the response only outside production.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { Problem } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { AppContext } from '../context/context.js';
import { isNulBodyError, nulCharacterProblem } from './nul-character.js';
import { pgErrorToProblem } from './pg-errors.js';

function translate(err: unknown): Problem | null {
  if (err instanceof Problem) return err;
  const e = err as { type?: string; status?: number; expose?: boolean };
  if (isNulBodyError(err)) return nulCharacterProblem();
  if (e?.type === 'entity.parse.failed') return new Problem('bad_request', 'The body is not valid JSON');
  if (e?.type === 'entity.too.large') return new Problem('payload_too_large', 'The request body is too large');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new Problem('unsupported_media_type', 'Unsupported body encoding');
  return pgErrorToProblem(err);
}

/** The Problem an error is answered with; unexpected ones are logged (a 500, its message shown outside production). */
export function problemOf(err: unknown, ctx: AppContext, logger: Logger): Problem {
  let problem = translate(err);
  if (problem?.code === 'service_unavailable') logger.error({ err }, 'database unavailable');
  if (!problem) {
    logger.error({ err }, 'unhandled error');
    const detail = ctx.config.nodeEnv === 'production' ? undefined : String((err as Error)?.message ?? err);
    problem = new Problem('internal_error', detail);
  }
  return problem;
}

export function problemMiddleware(ctx: AppContext): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = problemOf(err, ctx, req.log ?? ctx.logger);
    res.locals.problemCode = problem.code; // for the upload metrics (api/http/metrics.ts)
    if (res.headersSent) return res.end();
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
    // Refused before its body arrived (a 401 or 503 on an upload): close rather than read the rest.
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toJSON()));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new Problem('not_found', `No route for ${req.method} ${req.path}`));
};

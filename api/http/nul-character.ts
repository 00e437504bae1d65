// U+0000 is valid in JSON ("\u0000") and in a URL (%00), but no text column of PostgreSQL can
// hold it: a value carrying it would fail deep in a statement as a 500. It is refused at the
// door instead, the same way on every route: a 400 that names the character.
import type { RequestHandler } from 'express';
import { Problem } from '../../shared/errors.js';

export const NUL_DETAIL = 'Text may not contain the character U+0000 (NUL)';
/** Thrown from the JSON reviver; body-parser keeps the message (problem-middleware.ts reads it). */
const NUL_IN_BODY = 'nul character in body';

export function nulCharacterProblem(): Problem {
  return new Problem('bad_request', NUL_DETAIL);
}

/** express.json's reviver: any string key or value holding NUL fails the parse. */
export function refuseNul(key: string, value: unknown): unknown {
  if (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000'))) throw new SyntaxError(NUL_IN_BODY);
  return value;
}

export function isNulBodyError(err: unknown): boolean {
  const e = err as { type?: string; message?: string } | null;
  return e?.type === 'entity.parse.failed' && e.message === NUL_IN_BODY;
}

/** A path or query string holding %00. */
export function refuseNulInUrl(): RequestHandler {
  return (req, _res, next) => next(/%00/i.test(req.originalUrl) ? nulCharacterProblem() : undefined);
}

// Schemas reused by several resources; also documented in the OpenAPI document.
import { z } from 'zod';
import { parseIsoTimestamp } from '../../shared/protocol/iso-timestamp.js';

export const idParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
export const uuidParam = z.object({ id: z.uuid() });
export const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').refine((s) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}, 'not a calendar date');
export const isoInstant = z.iso.datetime({ offset: true });
/** An instant as the device protocol takes it (seconds and an offset or Z required, real calendar dates), as a Date. */
export const instant = z.string().max(64)
  .refine((s) => parseIsoTimestamp(s) !== null, 'expected an ISO 8601 instant with seconds and an offset or Z, e.g. 2026-11-20T08:00:03+01:00')
  .meta({ format: 'date-time' })
  .transform((s) => parseIsoTimestamp(s)!);
/** A query flag: `true`/`false` (or `1`/`0`); z.coerce.boolean would read "false" as true. */
export const queryFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
/** An id in a query string. */
export const idQuery = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Response timestamps: Dates serialised by res.json, documented as strings. */
export const timestamp = z.string().meta({ format: 'date-time', description: 'ISO 8601 instant' });

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
}).meta({ id: 'Problem' });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

/** Standard error responses, merged into each route's documented responses. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s] ?? 'Error', schema: problemSchema, contentType: 'application/problem+json' }]));

const ERROR_TEXT: Record<number, string> = {
  400: 'Bad request', 401: 'Not signed in or token invalid', 403: 'Not allowed', 404: 'Not found or out of scope',
  409: 'Conflict', 413: 'Too large', 415: 'Unsupported media type', 422: 'Validation failed', 429: 'Too many attempts',
  503: 'Busy or not ready',
};

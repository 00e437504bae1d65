// Keyset paging for every list: `limit` (default 50, max 500) and an opaque `cursor` holding
// the last item's sort key. Lists answer {"items": [...], "next_cursor": "..." | null}.
import { z } from 'zod';
import { Problem } from '../../shared/errors.js';

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
};

/** [instant with microseconds, id]: the key of lists in (timestamp, id) order. Milliseconds would skip rows. */
export const instantIdKey = z.tuple([z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/), z.number().int()]);

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`, checked with `schema`; a forged one is a 422. */
export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | null {
  if (cursor === undefined) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw new Problem('validation_failed', 'query.cursor: not a cursor from this list', { errors: [{ field: 'query.cursor', message: 'invalid cursor' }] });
}

/** `rows` were fetched with `limit + 1`: the extra row only tells that there is a next page. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => unknown): Page<T> {
  const items = rows.slice(0, limit);
  const next = rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null;
  return { items, next_cursor: next };
}

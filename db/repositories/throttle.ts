// Failed sign-in counting shared by every api process. Each key (a credential, an address) has
// its own budget of failures per window; past it, each further failure blocks the key for twice
// as long (FIRST_BLOCK_SECONDS, then doubling, up to MAX_BLOCK_SECONDS).
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

const WINDOW_SECONDS = 15 * 60;
const FIRST_BLOCK_SECONDS = 30;
const MAX_BLOCK_SECONDS = 15 * 60;

export interface ThrottleKey {
  key: string;
  /** Failures allowed in a window before the key is blocked. */
  budget: number;
}

/** Seconds the longest-blocked of `keys` must still wait, or 0. */
export async function blockedFor(db: DbOrTrx, keys: readonly string[]): Promise<number> {
  const row = await db
    .selectFrom('auth_throttle')
    .select(sql<number>`ceil(extract(epoch FROM max(blocked_until) - now()))`.as('seconds'))
    .where('key', 'in', [...keys])
    .where('blocked_until', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row && row.seconds !== null ? Math.max(1, Number(row.seconds)) : 0;
}

export async function recordFailure(db: DbOrTrx, keys: readonly ThrottleKey[]): Promise<void> {
  for (const { key, budget } of keys) {
    await sql`
      INSERT INTO auth_throttle AS t (key, failures, window_started_at, blocked_until)
      VALUES (${key}, 1, now(), CASE WHEN ${budget}::int <= 1 THEN now() + make_interval(secs => ${FIRST_BLOCK_SECONDS}) END)
      ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN t.window_started_at < now() - make_interval(secs => ${WINDOW_SECONDS}) AND (t.blocked_until IS NULL OR t.blocked_until < now())
                        THEN 1 ELSE t.failures + 1 END,
        window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => ${WINDOW_SECONDS}) AND (t.blocked_until IS NULL OR t.blocked_until < now())
                        THEN now() ELSE t.window_started_at END,
        blocked_until = CASE WHEN t.failures + 1 >= ${budget}::int
                        THEN now() + make_interval(secs => least(${MAX_BLOCK_SECONDS}, ${FIRST_BLOCK_SECONDS} * power(2, t.failures + 1 - ${budget}::int)))
                        ELSE t.blocked_until END
    `.execute(db);
  }
}

export async function clearFailures(db: DbOrTrx, key: string): Promise<void> {
  await db.deleteFrom('auth_throttle').where('key', '=', key).execute();
}

/** Whether `credential` has signed in from `address` before. */
export async function isKnownSource(db: DbOrTrx, credential: string, address: string): Promise<boolean> {
  const row = await db.selectFrom('auth_known_sources').select('credential')
    .where('credential', '=', credential).where('address', '=', address).executeTakeFirst();
  return row !== undefined;
}

export async function rememberSource(db: DbOrTrx, credential: string, address: string): Promise<void> {
  await db.insertInto('auth_known_sources').values({ credential, address })
    .onConflict((oc) => oc.columns(['credential', 'address']).doUpdateSet({ last_success_at: sql<Date>`now()` })).execute();
}

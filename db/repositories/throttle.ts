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

/** A sign-in's source and keys: the pair's (this credential from this address), and the others (the account's, the address's). */
export interface SignInSource {
  credential: string;
  address: string;
  pairKey: string;
}

/**
 * Seconds a sign-in must still wait, or 0: the longest block of its `keys` (the pair's among
 * them), or of the pair's own key alone when `credential` signed in from `address` before. One
 * statement: the known-source check and the blocks were two of a device's five statements per sign-in.
 */
export async function blockedFor(db: DbOrTrx, source: SignInSource, keys: readonly string[]): Promise<number> {
  const { credential, address, pairKey } = source;
  const row = await sql<{ seconds: number | null }>`
    SELECT ceil(extract(epoch FROM max(t.blocked_until) - now())) AS seconds FROM auth_throttle AS t
     WHERE t.blocked_until > now() AND t.key = ANY(${[...keys]}::text[])
       AND (t.key = ${pairKey} OR NOT EXISTS (SELECT 1 FROM auth_known_sources WHERE credential = ${credential} AND address = ${address}))`.execute(db);
  const seconds = row.rows[0]?.seconds;
  return seconds !== null && seconds !== undefined ? Math.max(1, Number(seconds)) : 0;
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

/**
 * A sign-in that succeeded: the pair's failures cleared (the account's and the address's stand
 * against other guessers) and the source remembered, in one statement.
 */
export async function signInSucceeded(db: DbOrTrx, source: SignInSource): Promise<void> {
  await sql`
    WITH cleared AS (DELETE FROM auth_throttle WHERE key = ${source.pairKey})
    INSERT INTO auth_known_sources (credential, address) VALUES (${source.credential}, ${source.address})
    ON CONFLICT (credential, address) DO UPDATE SET last_success_at = now()`.execute(db);
}

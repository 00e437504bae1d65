// Stored user-days are the figures' source; reading 40,000 of them costs ~80 ms, checking
// that nothing changed costs a few. Each api process keeps the most recent ranges and
// reloads one only when its fingerprint moved. Correctness never depends on the cache.
import type { DbOrTrx } from '../../db/database.js';
import { storedUserDays, type StoredUserDay } from '../../db/repositories/figures.js';

const MAX_ENTRIES = 32;
const entries = new Map<string, { fingerprint: string; days: StoredUserDay[] }>();

/** `fingerprint`: from `userDaysFingerprint`, read before calling. */
export async function cachedUserDays(db: DbOrTrx, schoolId: number, from: string, to: string, fingerprint: string): Promise<StoredUserDay[]> {
  const key = `${schoolId}:${from}:${to}`;
  const hit = entries.get(key);
  if (hit && hit.fingerprint === fingerprint) {
    entries.delete(key); // keep recently used last
    entries.set(key, hit);
    return hit.days;
  }
  const days = await storedUserDays(db, schoolId, from, to);
  // A write between the two reads only makes the next call reload: the fingerprint read first is older.
  entries.delete(key);
  entries.set(key, { fingerprint, days });
  if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
  return days;
}

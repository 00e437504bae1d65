// The user-days a batch touched, kept as numbers (user id × 100 000 + local day number) in a
// typed array so a million-row batch costs a few megabytes (a Set of 500,000 numbers held
// ~15 MiB of the worker's peak), then sorted, deduplicated and recomputed in chunks.
import type { Trx } from '../../db/database.js';
import { lockUsersForFigures, recomputeDays } from '../../db/repositories/user-days.js';
import { LocalDayIndex } from '../../shared/time/local-day-index.js';

const DAY_SPAN = 100_000;
const RECOMPUTE_CHUNK = 5_000;
/** Keys deduplicated in a small Set before they reach the array: a user's rows of one day come close together. */
const RECENT_LIMIT = 8_192;

export class TouchedDays {
  private keys = new Float64Array(1_024);
  private length = 0;
  private readonly recent = new Set<number>();
  private readonly index: LocalDayIndex;

  constructor(private readonly schoolId: number, private readonly timezone: string, private readonly dayEnd: string) {
    this.index = new LocalDayIndex(timezone);
  }

  add(userId: number, occurredAt: Date): void {
    this.recent.add(userId * DAY_SPAN + this.index.dayNumber(occurredAt.getTime()));
    if (this.recent.size >= RECENT_LIMIT) this.spill();
  }

  /** An empty set for the same school, to be merged in once its rows are known to be stored. */
  fork(): TouchedDays {
    return new TouchedDays(this.schoolId, this.timezone, this.dayEnd);
  }

  /** Adds the user-days of `other` (a fork); with `only`, those of these users alone. */
  merge(other: TouchedDays, only?: ReadonlySet<number>): void {
    for (const key of other.distinctKeys()) {
      if (only && !only.has(Math.floor(key / DAY_SPAN))) continue;
      this.recent.add(key);
      if (this.recent.size >= RECENT_LIMIT) this.spill();
    }
  }

  async recompute(trx: Trx, now = new Date()): Promise<void> {
    const keys = this.distinctKeys();
    const clocks = new Map([[this.schoolId, { timezone: this.timezone, dayEnd: this.dayEnd }]]);
    const users = new Set<number>();
    for (const key of keys) users.add(Math.floor(key / DAY_SPAN));
    await lockUsersForFigures(trx, users);
    let chunk: Array<{ schoolId: number; userId: number; date: string }> = [];
    // Sorted: a user's days side by side, so each chunk reads them as a few ranges.
    for (const key of keys) {
      chunk.push({ schoolId: this.schoolId, userId: Math.floor(key / DAY_SPAN), date: LocalDayIndex.dateOf(key % DAY_SPAN) });
      if (chunk.length === RECOMPUTE_CHUNK) {
        await recomputeDays(trx, chunk, clocks, now);
        chunk = [];
      }
    }
    await recomputeDays(trx, chunk, clocks, now);
  }

  private spill(): void {
    if (this.length + this.recent.size > this.keys.length) {
      const grown = new Float64Array(Math.max(this.keys.length * 2, this.length + this.recent.size));
      grown.set(this.keys.subarray(0, this.length));
      this.keys = grown;
    }
    for (const key of this.recent) this.keys[this.length++] = key;
    this.recent.clear();
  }

  /** Every key once, in numeric order. */
  private distinctKeys(): Float64Array {
    this.spill();
    const sorted = this.keys.subarray(0, this.length).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i];
    return sorted.subarray(0, n);
  }
}

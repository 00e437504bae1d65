// The user-days a batch touched, kept as numbers (user id × 100 000 + local day number) so a
// million-row batch costs a few megabytes, then recomputed in chunks.
import type { Trx } from '../../db/database.js';
import { lockUsersForFigures, recomputeDays } from '../../db/repositories/user-days.js';
import { LocalDayIndex } from '../../shared/time/local-day-index.js';

const DAY_SPAN = 100_000;
const RECOMPUTE_CHUNK = 5_000;

export class TouchedDays {
  private readonly keys = new Set<number>();
  private readonly index: LocalDayIndex;

  constructor(private readonly schoolId: number, private readonly timezone: string, private readonly dayEnd: string) {
    this.index = new LocalDayIndex(timezone);
  }

  add(userId: number, occurredAt: Date): void {
    this.keys.add(userId * DAY_SPAN + this.index.dayNumber(occurredAt.getTime()));
  }

  get size(): number {
    return this.keys.size;
  }

  async recompute(trx: Trx, now = new Date()): Promise<void> {
    const clocks = new Map([[this.schoolId, { timezone: this.timezone, dayEnd: this.dayEnd }]]);
    const keys = Float64Array.from(this.keys).sort(); // numeric order, 8 bytes a key
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
}

// Local day numbers for many instants in one zone, fast: the zone's offset is looked up once
// per quarter hour of UTC time and cached, so a million rows cost a few map look-ups each.
import { IANAZone } from 'luxon';
import { formatUtcDate } from './calendar.js';

const QUANTUM_MS = 15 * 60 * 1000;
const DAY_MS = 86_400_000;

const dates = new Map<number, string>();
const MAX_DATES = 10_000;

export class LocalDayIndex {
  private readonly zone: IANAZone;
  private readonly offsets = new Map<number, number>();

  constructor(timezone: string) {
    this.zone = IANAZone.create(timezone);
  }

  /** Days since 1970-01-01 of the instant's local date. */
  dayNumber(ms: number): number {
    const q = Math.floor(ms / QUANTUM_MS);
    let offset = this.offsets.get(q);
    if (offset === undefined) {
      offset = this.zone.offset(ms) * 60_000;
      this.offsets.set(q, offset);
    }
    return Math.floor((ms + offset) / DAY_MS);
  }

  /** 'YYYY-MM-DD' of a day number; a batch's hundreds of thousands of user-days fall on a few dates. */
  static dateOf(dayNumber: number): string {
    let date = dates.get(dayNumber);
    if (date === undefined) {
      if (dates.size >= MAX_DATES) dates.clear();
      dates.set(dayNumber, (date = formatUtcDate(dayNumber * DAY_MS)));
    }
    return date;
  }
}

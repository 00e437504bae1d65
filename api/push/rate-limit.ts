// Calls per serial number (issue #33 §4): a token bucket per SN in each api process, refilled at
// PUSH_RATE_PER_SECOND up to PUSH_RATE_BURST. A terminal polls every few seconds and sends its
// punches one upload at a time, far below it; whoever hammers one SN (guessing, replaying, or
// making a stranger's terminal look busy) is answered 503 + Retry-After before anything is read
// or written. The SN is counted whether it is known or not: the check costs no database read.
// Memory is bounded: buckets full again are dropped first, and the map never holds more than
// MAX_BUCKETS serial numbers.

const MAX_BUCKETS = 100_000;

export class SerialRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number, private readonly burst: number) {}

  /** 0 when the call may go on (a token is taken), else the seconds until one is back. */
  take(serialNumber: string, now = Date.now()): number {
    let bucket = this.buckets.get(serialNumber);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(serialNumber, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  private prune(now: number): void {
    const refill = (this.burst / this.perSecond) * 1000;
    for (const [sn, b] of this.buckets) if (now - b.at >= refill) this.buckets.delete(sn);
    // Still full: every bucket is in use; the oldest half goes (a fresh bucket is a full one).
    if (this.buckets.size >= MAX_BUCKETS) {
      let n = this.buckets.size / 2;
      for (const sn of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(sn);
      }
    }
  }
}

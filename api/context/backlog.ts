// IMPORT_MAX_PENDING (docs/protocol/v4.md §3.3 `server_busy`) without counting the backlog on every
// upload: the count scans pending sessions up to the limit, which at 2,000 pending costs more
// than the rest of the upload's statements. The process counts at most once a second and adds
// the uploads it accepted since; near the limit, where the answer matters, it counts every time.
//
// The limit was never exact under concurrency (uploads counted at the same moment all pass);
// here, api processes may also together exceed it by what the others accept between two of
// their counts far below the limit: at most a second's worth of uploads.
import type { Db } from '../../db/database.js';
import { pendingImports } from '../../db/repositories/sync.js';

/** A count this recent, plus what this process accepted since, stands in for a new one. */
const MAX_AGE_MS = 1000;

export class BacklogGauge {
  private counted = 0;
  private countedAt = -Infinity;
  private acceptedSince = 0;
  private counting: Promise<number> | null = null;

  constructor(private readonly db: Db, private readonly limit: number) {}

  /** True when accepting one more batch would exceed the limit. */
  async full(now = performance.now()): Promise<boolean> {
    const estimate = this.counted + this.acceptedSince;
    // Within 10% of the limit (and for tiny limits, always) the count is taken again.
    const margin = Math.max(1, Math.ceil(this.limit / 10));
    if (now - this.countedAt < MAX_AGE_MS && estimate + margin < this.limit) return false;
    return (await this.count()) >= this.limit;
  }

  /** An upload was accepted (committed) by this process. */
  accepted(): void {
    this.acceptedSince++;
  }

  /** One count at a time: uploads arriving while it runs share it. */
  private count(): Promise<number> {
    this.counting ??= (async () => {
      const started = performance.now();
      const acceptedBefore = this.acceptedSince;
      try {
        const n = await pendingImports(this.db, this.limit);
        // Accepted while counting: maybe counted, maybe not; keep them, erring towards full.
        this.counted = n;
        this.acceptedSince -= acceptedBefore;
        this.countedAt = started;
        return n;
      } finally {
        this.counting = null;
      }
    })();
    return this.counting;
  }
}

// What makes an idle `getrequest` cost next to nothing (docs/protocol/push.md §5): each api process keeps in
// memory which terminals have nothing due, and until when, and answers their polls `OK` without
// touching the database. Queuing a command NOTIFYs `push_terminals` in its transaction
// (`notifyTerminal`), so every api process forgets that terminal's idle mark at the commit; a lost
// connection forgets them all when it comes back, and a mark never outlives IDLE_TTL_MS anyway.
// Terminal lookups (SN → device, school, timezone, allow-list) are cached the same way, and last
// contacts are written in one statement per flush instead of one per poll.
import type { Db } from '../../db/database.js';
import { listenForJobs, type JobListener } from '../../db/job-notifications.js';
import { findTerminal, noteContacts, PUSH_NOTIFY_CHANNEL, type TerminalLookup } from '../../db/repositories/push/terminals.js';
import type { Logger } from '../../shared/logger.js';

/** An idle mark or a cached lookup is trusted this long at most (a notification can be lost). */
const IDLE_TTL_MS = 300_000;
const LOOKUP_TTL_MS = 300_000;
const SEEN_FLUSH_MS = 5_000;
/**
 * A terminal's last contact is written at most this often: it feeds "silent" (minutes) and the
 * device list. Writing every poll's contact of 5,000 terminals each flush (10,000 rows every
 * 5 s, devices rows locked meanwhile) is what made the bench collapse at 5,000 terminals.
 */
const SEEN_WRITE_MS = 60_000;
const MAX_ENTRIES = 200_000;
const SEEN_ROWS_PER_STATEMENT = 100;

export class PollCache {
  private readonly idleUntil = new Map<string, number>();
  /** Bumped by each invalidation, so a miss that read the database before it cannot mark the terminal idle after it. */
  private readonly generation = new Map<string, number>();
  private epoch = 0;
  private readonly lookups = new Map<string, { value: TerminalLookup | undefined; at: number }>();
  private readonly seen = new Map<string, { address: string | null; at: Date }>();
  /** When each terminal's contact was last written, and from which address. */
  private readonly written = new Map<string, { at: number; address: string | null }>();
  private listener: JobListener | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db, private readonly logger: Logger) {}

  start(databaseUrl: string): Promise<void> {
    this.listener = listenForJobs(databaseUrl, { logger: this.logger, applicationName: 'attendance-api-push', channel: PUSH_NOTIFY_CHANNEL }, (payload) => this.invalidate(payload));
    this.timer = setInterval(() => void this.flushSeen(), SEEN_FLUSH_MS);
    this.timer.unref();
    return this.listener.ready;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.listener?.stop();
    await this.flushSeen();
  }

  private invalidate(payload: string | null): void {
    if (payload === null) {
      this.epoch++;
      this.idleUntil.clear();
      this.lookups.clear();
      return;
    }
    const key = payload.slice(2);
    if (payload.startsWith('d:')) {
      this.idleUntil.delete(key);
      this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
    } else if (payload.startsWith('s:')) {
      this.lookups.delete(key);
    }
  }

  /** The terminal, from memory when looked up within LOOKUP_TTL_MS (uploads read it fresh instead). */
  async lookup(serialNumber: string, now = Date.now()): Promise<TerminalLookup | undefined> {
    const hit = this.lookups.get(serialNumber);
    if (hit && now - hit.at < LOOKUP_TTL_MS) return hit.value;
    const epoch = this.epoch;
    const value = await findTerminal(this.db, serialNumber);
    if (epoch === this.epoch) {
      if (this.lookups.size >= MAX_ENTRIES) this.lookups.clear();
      this.lookups.set(serialNumber, { value, at: now });
    }
    return value;
  }

  forget(serialNumber: string): void {
    this.lookups.delete(serialNumber);
  }

  isIdle(deviceId: string, now = Date.now()): boolean {
    const until = this.idleUntil.get(deviceId);
    return until !== undefined && until > now;
  }

  /** A token to pass to `markIdle` after reading the database. */
  ticket(deviceId: string): string {
    return `${this.epoch}:${this.generation.get(deviceId) ?? 0}`;
  }

  /** Nothing is due for this terminal before `until` (capped at IDLE_TTL_MS), unless invalidated since `ticket`. */
  markIdle(deviceId: string, ticket: string, until: number | null, now = Date.now()): void {
    if (ticket !== this.ticket(deviceId)) return;
    if (this.idleUntil.size >= MAX_ENTRIES) this.idleUntil.clear();
    this.idleUntil.set(deviceId, Math.min(until ?? Infinity, now + IDLE_TTL_MS));
  }

  /** Remembers the contact; written with the others at the next flush. */
  noteSeen(serialNumber: string, address: string | null, now = Date.now()): void {
    const last = this.written.get(serialNumber);
    if (last && now - last.at < SEEN_WRITE_MS && last.address === address) return;
    if (this.written.size >= MAX_ENTRIES) this.written.clear();
    this.written.set(serialNumber, { at: now, address });
    this.seen.set(serialNumber, { address, at: new Date(now) });
    if (this.seen.size >= MAX_ENTRIES) void this.flushSeen();
  }

  flushSeen(): Promise<void> {
    if (this.seen.size === 0) return this.flushing;
    const batch = [...this.seen].map(([serialNumber, s]) => ({ serialNumber, address: s.address, at: s.at }));
    this.seen.clear();
    // In statements of SEEN_ROWS_PER_STATEMENT: each holds its devices' row locks until its commit,
    // and an ATTLOG upload of one of them (a share lock on its device) waits that long.
    this.flushing = this.flushing.then(async () => {
      for (let i = 0; i < batch.length; i += SEEN_ROWS_PER_STATEMENT) await noteContacts(this.db, batch.slice(i, i + SEEN_ROWS_PER_STATEMENT));
    }).catch((err: Error) => {
      this.logger.warn({ err: err.message }, 'push: last contacts not written');
    });
    return this.flushing;
  }
}

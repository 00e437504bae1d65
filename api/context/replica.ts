// Reads on a streaming replica (DATABASE_REPLICA_URL, docs/scaling-pooler-replica.md): the api's
// read-only routes (GET outside the device protocol, which runs no transaction: api/http/route.ts)
// may be served by the replica, without breaking what the protocol promises: figures read after
// a device saw status 2 include its batch (docs/protocol/v4.md). So a read goes to the replica
// only once it has replayed the primary's WAL up to where it was when the request started (every
// commit seen before, the import's included); it waits for that up to REPLICA_WAIT_MS, then
// reads on the primary. A replica that does not answer is left aside (reads on the primary)
// and asked again every REPLICA_RETRY_MS; /healthz and attendance_replica_up say which.
import { Counter, Gauge, register } from 'prom-client';
import { connectDatabase, type DatabaseHandle, type Db } from '../../db/database.js';
import { currentWalPosition, replayedUpTo } from '../../db/replication.js';
import type { Logger } from '../../shared/logger.js';

/** How long a read waits for the replica to catch up with the primary before reading there. */
export const REPLICA_WAIT_MS = 250;
/** A replica found down is asked again after this long. */
export const REPLICA_RETRY_MS = 5_000;
const POLL_MS = 10;

const replicaUp = new Gauge({
  name: 'attendance_replica_up', help: '1 while the read replica (DATABASE_REPLICA_URL) answers, 0 while reads fall back to the primary; absent without a replica',
  aggregator: 'min', registers: [],
});
const reads = new Counter({
  name: 'attendance_replica_reads_total',
  help: 'Read-only requests by where they were read: server="replica", or server="primary" with the reason (lagging: not caught up in time; down: the replica does not answer; refused: it could not run the read)',
  labelNames: ['server', 'reason'] as const,
});

export type ReplicaState = 'up' | 'down';

export class ReplicaReads {
  private state: ReplicaState = 'up';
  private retryAt = 0;
  private readonly handle: DatabaseHandle | null;
  /** Read-only requests of this process by the server that answered them (tests; the metric counts all processes). */
  readonly served = { replica: 0, primary: 0 };

  constructor(private readonly primary: Db, replicaUrl: string | null, private readonly logger: Logger, poolMax = 10) {
    this.handle = replicaUrl === null ? null : connectDatabase(replicaUrl, {
      max: poolMax, logger, applicationName: 'attendance-api-replica', connectionTimeoutMillis: 2_000,
    });
    if (this.handle) {
      if (!register.getSingleMetric('attendance_replica_up')) register.registerMetric(replicaUp);
      replicaUp.set(1);
    }
  }

  /** 'up' or 'down', or null without a replica. */
  get status(): ReplicaState | null {
    return this.handle === null ? null : this.state;
  }

  /**
   * Where a read-only request reads: the replica once it shows everything committed on the
   * primary before now, else the primary.
   */
  private async pick(): Promise<Db> {
    if (this.handle === null) return this.primary;
    if (this.state === 'down' && Date.now() < this.retryAt) {
      reads.inc({ server: 'primary', reason: 'down' });
      return this.primary;
    }
    let position: string;
    try {
      position = await currentWalPosition(this.primary);
    } catch {
      return this.primary; // the primary's own failure: the read reports it
    }
    try {
      const deadline = Date.now() + REPLICA_WAIT_MS;
      for (;;) {
        if (await replayedUpTo(this.handle.db, position)) {
          this.mark('up');
          reads.inc({ server: 'replica', reason: '' });
          return this.handle.db;
        }
        this.mark('up');
        if (Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      reads.inc({ server: 'primary', reason: 'lagging' });
      return this.primary;
    } catch (err) {
      // The replica could not say where it is: gone, or not a replica any more.
      this.failed(err);
      return this.primary;
    }
  }

  /**
   * Runs `read` where `pick` says; a read the replica fails (gone, or a conflict with recovery)
   * runs again on the primary. `errors` tells an answer (a 404 …: thrown as is) and a server that
   * cannot be reached (api/http/pg-errors.ts) from the rest.
   */
  async read<T>(read: (db: Db) => Promise<T>, errors: { isAnswer(err: unknown): boolean; isUnavailable(err: unknown): boolean }): Promise<T> {
    const db = await this.pick();
    if (db === this.primary) {
      this.served.primary++;
      return read(db);
    }
    try {
      const answer = await read(db);
      this.served.replica++;
      return answer;
    } catch (err) {
      if (errors.isAnswer(err)) throw err;
      if (errors.isUnavailable(err)) this.failed(err);
      else {
        this.logger.warn({ err: (err as Error).message }, 'a read failed on the replica: read on the primary');
        reads.inc({ server: 'primary', reason: 'refused' });
      }
      this.served.primary++;
      return read(this.primary);
    }
  }

  /** /healthz: asks the replica now (when one is set up and its retry is due). */
  async probe(): Promise<ReplicaState | null> {
    if (this.handle === null) return null;
    if (this.state === 'up' || Date.now() >= this.retryAt) {
      try {
        await replayedUpTo(this.handle.db, '0/0');
        this.mark('up');
      } catch (err) {
        this.failed(err);
      }
    }
    return this.state;
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }

  private failed(err: unknown): void {
    reads.inc({ server: 'primary', reason: 'down' });
    this.retryAt = Date.now() + REPLICA_RETRY_MS;
    if (this.state === 'down') return;
    this.state = 'down';
    replicaUp.set(0);
    this.logger.warn({ err: (err as Error).message }, `read replica not answering: reads go to the primary (asked again every ${REPLICA_RETRY_MS / 1000} s)`);
  }

  private mark(state: 'up'): void {
    if (this.state === state) return;
    this.state = state;
    replicaUp.set(1);
    this.logger.info('read replica answering again: reads go to it');
  }
}

// Wakes a worker as soon as a job is sent instead of at its next poll: the sender NOTIFYs in
// the transaction that sends the job (PostgreSQL delivers it at the commit, when the job is
// visible, and never for a rollback), and each worker LISTENs on one connection of its own and
// wakes the pump of that queue. The pumps' polling stays as the fallback: a notification lost
// with the connection, a job whose start_after is later, a retry.
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../shared/logger.js';
import type { DbOrTrx } from './database.js';

export const JOBS_CHANNEL = 'attendance_jobs';

/** Tells listening workers, at the commit of `trx`, that a job of `queue` was sent. */
export async function notifyJobSent(trx: DbOrTrx, queue: string): Promise<void> {
  await sql`SELECT pg_notify(${JOBS_CHANNEL}, ${queue})`.execute(trx);
}

export interface JobListener {
  /** Resolves once listening (or after the first failed attempt, which is then retried). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Calls `onSent(queue)` for each notification, and `onSent(null)` (wake every queue) each time
 * the connection is (re)established, since notifications sent while it was down are lost.
 */
export function listenForJobs(url: string, opts: { logger: Logger; applicationName: string; retryMs?: number; channel?: string }, onSent: (queue: string | null) => void): JobListener {
  const retryMs = opts.retryMs ?? 1000;
  // Other notifications (PUSH commands queued: api/context/poll-cache.ts) reuse this listener on their own channel.
  const channel = opts.channel ?? JOBS_CHANNEL;
  let stopped = false;
  let current: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    timer = null;
    const client = new pg.Client({ connectionString: url, application_name: opts.applicationName });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (current === client) current = null;
      void client.end().catch(() => undefined);
      if (stopped) return;
      opts.logger.warn({ err: err?.message }, `${channel} notifications: connection lost; polling until it is back`);
      timer = setTimeout(() => void connect(), retryMs);
    };
    client.on('notification', (msg) => {
      if (msg.channel === channel) onSent(msg.payload || null);
    });
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (lost) return;
    if (stopped) {
      lost = true;
      await client.end().catch(() => undefined);
      return;
    }
    current = client;
    onSent(null);
  };

  const ready = connect();
  return {
    ready,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ready;
      const client = current;
      current = null;
      await client?.end().catch(() => undefined);
    },
  };
}

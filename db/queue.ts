// pg-boss: one instance per process, its queues, and the adapter that sends a job inside a
// kysely transaction (pg-boss 10's `db` option), so a job exists exactly when its write committed.
import { CompiledQuery } from 'kysely';
import PgBoss from 'pg-boss';
import type { Config } from '../shared/config.js';
import { QUEUES } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import type { Trx } from './database.js';
import { notifyJobSent } from './job-notifications.js';

export { PgBoss };

export function createBoss(url: string, opts: { logger: Logger; role: 'api' | 'worker' | 'migrate'; max?: number; maintenanceIntervalSeconds?: number }): PgBoss {
  const worker = opts.role === 'worker';
  const boss = new PgBoss({
    connectionString: url,
    application_name: `attendance-${opts.role}-boss`,
    max: opts.max ?? (worker ? 4 : 2),
    // Only workers run maintenance (expiry, retention) and cron; api processes just send.
    supervise: worker,
    schedule: worker,
    migrate: opts.role !== 'api',
    // Expiry of timed-out jobs happens here: an import whose worker died is retried after expiry + this.
    maintenanceIntervalSeconds: opts.maintenanceIntervalSeconds ?? 30,
  });
  // Without a listener a database restart would crash the process (pg-boss#365).
  boss.on('error', (err) => opts.logger.error({ err: err.message }, 'pg-boss error'));
  return boss;
}

/** Releases the connections of an instance whose `start()` failed (its `stop()` does nothing then). */
export async function discardBoss(boss: PgBoss): Promise<void> {
  const db = boss.getDb() as PgBoss.Db & { close?: () => Promise<void> };
  await db.close?.().catch(() => undefined);
}

/** Creates or updates every queue; import expiry is sized from the measured import time (see README). */
export async function ensureQueues(boss: PgBoss, config: Config): Promise<void> {
  const queues: PgBoss.Queue[] = [
    { name: QUEUES.importBatchDead, retentionMinutes: 14 * 24 * 60 },
    {
      name: QUEUES.importBatch,
      retryLimit: config.importRetryLimit,
      retryDelay: 5,
      retryBackoff: true,
      expireInSeconds: config.importJobExpireSeconds,
      retentionMinutes: 14 * 24 * 60,
      deadLetter: QUEUES.importBatchDead,
    },
    { name: QUEUES.sweepSessions, policy: 'singleton', expireInSeconds: 120, retryLimit: 0 },
    { name: QUEUES.pruneArchives, policy: 'singleton', expireInSeconds: 600, retryLimit: 0 },
    { name: QUEUES.closeOpenDays, policy: 'singleton', expireInSeconds: 900, retryLimit: 0 },
    { name: QUEUES.rebuildChunkDead, retentionMinutes: 14 * 24 * 60 },
    { name: QUEUES.rebuildChunk, expireInSeconds: 900, retryLimit: 3, retryDelay: 5, deadLetter: QUEUES.rebuildChunkDead },
    // One run at a time; never retried by pg-boss (the next run picks up whatever is pending).
    { name: QUEUES.datamartRun, policy: 'singleton', retryLimit: 0, expireInSeconds: Math.min(86_399, config.datamart.stageTimeoutMinutes * 60 * 2) },
    { name: QUEUES.datamartPoll, policy: 'singleton', retryLimit: 0, expireInSeconds: 3600 },
    { name: QUEUES.datamartSweep, policy: 'singleton', retryLimit: 0, expireInSeconds: 600 },
  ];
  for (const queue of queues) {
    const existing = await boss.getQueue(queue.name);
    if (existing) await boss.updateQueue(queue.name, queue);
    else await boss.createQueue(queue.name, queue);
  }
}

/** pg-boss `db` option running on the transaction's connection (what v12's fromKysely does). */
export function inTransaction(trx: Trx): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[]) {
      const result = await trx.executeQuery(CompiledQuery.raw(text, values));
      return { rows: result.rows as unknown[] as never[] };
    },
  };
}

/**
 * Sends a job in `trx`: it exists only if `trx` commits, and at that commit the listening
 * workers wake (db/job-notifications.ts) instead of finding it at their next poll.
 */
export async function sendInTransaction(boss: PgBoss, trx: Trx, queue: string, data: object, options: PgBoss.SendOptions = {}): Promise<string | null> {
  const id = await boss.send(queue, data, { ...options, db: inTransaction(trx) });
  await notifyJobSent(trx, queue);
  return id;
}

/** Several jobs in `trx`, as `sendInTransaction`. */
export async function insertInTransaction(boss: PgBoss, trx: Trx, jobs: PgBoss.JobInsert[]): Promise<void> {
  await boss.insert(jobs, { db: inTransaction(trx) });
  for (const queue of new Set(jobs.map((j) => j.name))) await notifyJobSent(trx, queue);
}

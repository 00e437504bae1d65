// pg-boss: one instance per process, its queues, and sending a job inside a kysely transaction
// (pg-boss's `db` option with its kysely adapter), so a job exists exactly when its write committed.
import { PgBoss, fromKysely, type Db as BossDb, type Job, type JobInsert, type Queue, type SendOptions } from 'pg-boss';
import type { Config } from '../shared/config.js';
import { QUEUES } from '../shared/jobs.js';
import type { Logger } from '../shared/logger.js';
import type { Trx } from './database.js';
import { notifyJobSent } from './job-notifications.js';

export { PgBoss };
export type { Job, JobInsert, SendOptions };

export function createBoss(url: string, opts: { logger: Logger; role: 'api' | 'worker' | 'migrate'; max?: number; superviseIntervalSeconds?: number }): PgBoss {
  const worker = opts.role === 'worker';
  const boss = new PgBoss({
    connectionString: url,
    application_name: `attendance-${opts.role}-boss`,
    max: opts.max ?? (worker ? 4 : 2),
    // Only workers run maintenance (expiry, retention) and cron; api processes just send.
    supervise: worker,
    schedule: worker,
    migrate: opts.role !== 'api',
    // Each supervise pass fails the jobs whose heartbeat stopped (a worker killed mid-import) or
    // that ran past their expiry, so a lost import is retried within heartbeat + this.
    superviseIntervalSeconds: opts.superviseIntervalSeconds ?? 5,
    monitorIntervalSeconds: opts.superviseIntervalSeconds ?? 5,
    // The registry (pgboss.instance) names each process and its workers; api processes only send.
    registerInstance: worker,
    instanceName: `attendance-${opts.role}`,
  });
  // Without a listener a database restart would crash the process (pg-boss#365).
  boss.on('error', (err) => opts.logger.error({ err: err.message }, 'pg-boss error'));
  return boss;
}

/** Releases the connections of an instance whose `start()` failed (its `stop()` does nothing then). */
export async function discardBoss(boss: PgBoss): Promise<void> {
  const db = boss.getDb() as BossDb & { close?: () => Promise<void> };
  await db.close?.().catch(() => undefined);
}

/**
 * Queues of imports, from before every upload's pending session became its import's queue entry
 * (worker/import/session-queue.ts): `import-batch` (a job naming a session), its dead letter
 * `import-batch-dead`, and `import-push` (a job waking a worker for PUSH sessions). Nothing sends
 * or serves them; `ensureQueues` deletes them with whatever jobs they still hold. The sessions
 * those jobs named are pending rows, which the import queue takes like any other.
 */
export const RETIRED_QUEUES = ['import-batch', 'import-batch-dead', 'import-push'] as const;

/** Creates or updates every queue, and deletes the retired ones (RETIRED_QUEUES). */
export async function ensureQueues(boss: PgBoss, config: Config): Promise<void> {
  const twoWeeks = 14 * 24 * 3600;
  const queues: Queue[] = [
    { name: QUEUES.sweepSessions, policy: 'singleton', expireInSeconds: 120, retryLimit: 0 },
    { name: QUEUES.pruneArchives, policy: 'singleton', expireInSeconds: 600, retryLimit: 0 },
    { name: QUEUES.closeOpenDays, policy: 'singleton', expireInSeconds: 900, retryLimit: 0 },
    { name: QUEUES.ensurePartitions, policy: 'singleton', expireInSeconds: 900, retryLimit: 0 },
    { name: QUEUES.rebuildChunkDead, retentionSeconds: twoWeeks },
    { name: QUEUES.rebuildChunk, expireInSeconds: 900, retryLimit: 3, retryDelay: 5, deadLetter: QUEUES.rebuildChunkDead },
    // One run at a time; never retried by pg-boss (the next run picks up whatever is pending).
    { name: QUEUES.datamartRun, policy: 'singleton', retryLimit: 0, expireInSeconds: Math.min(86_399, config.datamart.stageTimeoutMinutes * 60 * 2) },
    { name: QUEUES.datamartPoll, policy: 'singleton', retryLimit: 0, expireInSeconds: 3600 },
    { name: QUEUES.datamartSweep, policy: 'singleton', retryLimit: 0, expireInSeconds: 600 },
  ];
  for (const { name, policy: _policy, partition: _partition, ...options } of queues) {
    const existing = await boss.getQueue(name);
    // policy and partition are fixed at creation; everything else follows the configuration.
    if (existing) await boss.updateQueue(name, { ...options, heartbeatSeconds: options.heartbeatSeconds ?? null });
    else await boss.createQueue(name, queues.find((q) => q.name === name));
  }
  for (const name of RETIRED_QUEUES) {
    if (await boss.getQueue(name)) await boss.deleteQueue(name);
  }
}

/**
 * Sends a job in `trx`: it exists only if `trx` commits, and at that commit the listening
 * workers wake (db/job-notifications.ts) instead of finding it at their next poll.
 */
export async function sendInTransaction(boss: PgBoss, trx: Trx, queue: string, data: object, options: SendOptions = {}): Promise<string | null> {
  const id = await boss.send(queue, data, { ...options, db: fromKysely(trx) });
  await notifyJobSent(trx, queue);
  return id;
}

/** Several jobs of one queue in `trx`, as `sendInTransaction`. */
export async function insertInTransaction(boss: PgBoss, trx: Trx, queue: string, jobs: JobInsert[]): Promise<void> {
  await boss.insert(queue, jobs, { db: fromKysely(trx) });
  await notifyJobSent(trx, queue);
}

// The monthly partitions of the punch tables (db/repositories/partitions.ts): made ahead by a
// daily job, and old months dropped by the nightly retention job (with pruneRetention: one
// retention, docs/DATA-PROTECTION.md) once RETENTION_PUNCH_MONTHS have passed and the data mart
// export covers them.
import { dropExpiredMonths, ensurePartitions, type DroppedMonth } from '../../db/repositories/partitions.js';
import type { WorkerContext } from '../context/context.js';

/** The current month and this many more always have their partitions. */
export const PARTITION_MONTHS_AHEAD = 3;

export async function ensureMonths(ctx: WorkerContext): Promise<string[]> {
  const made = await ensurePartitions(ctx.db, PARTITION_MONTHS_AHEAD);
  if (made.length > 0) ctx.logger.info({ partitions: made }, 'monthly partitions made');
  return made;
}

export async function retentionJob(ctx: WorkerContext): Promise<DroppedMonth[]> {
  const dropped = await dropExpiredMonths(ctx.db, ctx.config.retentionPunchMonths);
  for (const d of dropped) ctx.logger.info({ table: d.table, month: d.month, ms: d.ms }, 'month dropped after retention (exported to the data mart)');
  return dropped;
}

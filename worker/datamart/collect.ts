// The collect stage of one entity: the keys changed inside the run's window (or never
// collected) are listed once, then read and written to the export table in chunks of
// DATAMART_COLLECT_CHUNK_SIZE, each chunk a sub-stage committed in its own transaction.
import {
  attendanceDaySources, clearCollectKeys, listCollectKeys, nextCollectKeys, personSources, schoolSources, storeDeletes, storeUpserts,
  type CollectedRecord,
} from '../../db/repositories/datamart-records.js';
import { closeStage, closeSubstage, openStage, openSubstage } from '../../db/repositories/datamart-runs.js';
import type { Trx } from '../../db/database.js';
import { entitySpec, type EntityName } from '../../shared/datamart/entities.js';
import { deletionRecord, type ExportRecord } from '../../shared/datamart/record.js';
import type { WorkerContext } from '../context/context.js';
import { attendanceDayRecord, personRecord, schoolRecord } from './sources.js';

/** Thrown when the stuck sweep failed a step this worker was still running. */
export class StepAbandoned extends Error {
  constructor(what: string) {
    super(`${what} was failed by the stuck sweep`);
    this.name = 'StepAbandoned';
  }
}

interface ChunkRecords {
  upserts: CollectedRecord[];
  deletes: CollectedRecord[];
}

/** Reads the product rows behind `keys`: present → upsert; gone → delete; not final yet → left for later. */
async function readChunk(trx: Trx, entity: EntityName, keys: string[], prefix: string): Promise<ChunkRecords> {
  const found = new Map<string, ExportRecord | null>();
  if (entity === 'schools') {
    for (const s of await schoolSources(trx, keys)) found.set(String(s.id), schoolRecord(s, prefix));
  } else if (entity === 'persons') {
    for (const p of await personSources(trx, keys)) found.set(String(p.id), personRecord(p, prefix));
  } else {
    const now = new Date();
    for (const d of await attendanceDaySources(trx, keys)) found.set(d.key, d.ended ? attendanceDayRecord(d, prefix, now) : null);
  }
  const spec = entitySpec(entity);
  const out: ChunkRecords = { upserts: [], deletes: [] };
  for (const key of keys) {
    if (!found.has(key)) {
      const localId = entity === 'attendance_days' ? key.replace(':', '-') : key;
      out.deletes.push({ key, fields: deletionRecord(spec, localId, prefix) });
      continue;
    }
    const record = found.get(key);
    if (record) out.upserts.push({ key, fields: record });
  }
  return out;
}

export async function collectEntity(ctx: WorkerContext, run: { id: number; force: boolean }, seq: number, entity: EntityName): Promise<number> {
  const { config, db } = ctx;
  const stageId = await openStage(db, { runId: run.id, seq, kind: 'collect', entity, operation: null });
  let total = 0;
  try {
    await listCollectKeys(db, stageId, run.id, entity);
    let after: string | null = null;
    for (let chunk = 1; ; chunk++) {
      const keys = await nextCollectKeys(db, stageId, after, config.datamart.collectChunkSize);
      if (keys.length === 0) break;
      after = keys[keys.length - 1];
      const substageId = await openSubstage(db, stageId, chunk);
      try {
        total += await db.transaction().execute(async (trx) => {
          const { upserts, deletes } = await readChunk(trx, entity, keys, config.datamart.idPrefix);
          const written = await storeUpserts(trx, entity, run.id, upserts, run.force) + await storeDeletes(trx, entity, run.id, deletes, run.force);
          if (!(await closeSubstage(trx, substageId, written, null))) throw new StepAbandoned(`collect chunk ${chunk} of ${entity}`);
          return written;
        });
      } catch (err) {
        await closeSubstage(db, substageId, 0, (err as Error).message);
        throw err;
      }
    }
    await clearCollectKeys(db, stageId);
    if (!(await closeStage(db, stageId, total, null))) throw new StepAbandoned(`collect of ${entity}`);
    return total;
  } catch (err) {
    await closeStage(db, stageId, total, (err as Error).message);
    await clearCollectKeys(db, stageId).catch(() => undefined);
    throw err;
  }
}

// The export stage of one entity and operation: its pending records go out as CSV files of
// at most DATAMART_EXPORT_CHUNK_SIZE rows, one sub-stage and one upload each. A file the
// uploader never took (retries exhausted) fails the stage; its records stay pending for the next run.
import { markSent, pendingRecords } from '../../db/repositories/datamart-records.js';
import { closeStage, closeSubstage, openStage, openSubstage, recordUpload } from '../../db/repositories/datamart-runs.js';
import type { DatamartOperation } from '../../db/schema/index.js';
import { entitySpec, type EntityName } from '../../shared/datamart/entities.js';
import { recordsCsv, type ExportRecord } from '../../shared/datamart/record.js';
import type { WorkerContext } from '../context/context.js';
import { StepAbandoned } from './collect.js';
import { UploaderError, type UploaderClient } from './uploader-client.js';

export async function exportEntity(ctx: WorkerContext, client: UploaderClient, runId: number, seq: number, entity: EntityName, operation: DatamartOperation): Promise<number> {
  const { config, db } = ctx;
  const spec = entitySpec(entity);
  const stageId = await openStage(db, { runId, seq, kind: 'export', entity, operation });
  let total = 0;
  try {
    let after: string | null = null;
    for (let chunk = 1; ; chunk++) {
      const records = await pendingRecords(db, entity, operation, after, config.datamart.exportChunkSize);
      if (records.length === 0) break;
      after = records[records.length - 1].key;
      const substageId = await openSubstage(db, stageId, chunk);
      const fileName = `${entity}-${operation}-${String(seq).padStart(2, '0')}-${String(chunk).padStart(5, '0')}.csv`;
      const content = recordsCsv(spec, operation, records.map((r) => r.fields as ExportRecord));
      const file = { runId, substageId, entity, operation, fileName, rows: records.length, bytes: Buffer.byteLength(content) };
      let sent;
      try {
        sent = await client.upload({ name: fileName, content, entity, operation, runId });
      } catch (err) {
        const message = (err as Error).message;
        await db.transaction().execute(async (trx) => {
          await recordUpload(trx, { ...file, remoteId: null, status: 'failed', errors: [message], attempts: err instanceof UploaderError ? err.attempts : 1 });
          await closeSubstage(trx, substageId, 0, message);
        });
        throw err;
      }
      // The file is at the mart whatever happens next: record it and its versions as sent.
      const still = await db.transaction().execute(async (trx) => {
        const uploadId = await recordUpload(trx, { ...file, remoteId: sent.remoteId, status: sent.status, errors: [], attempts: sent.attempts });
        await markSent(trx, entity, uploadId, records);
        return closeSubstage(trx, substageId, records.length, null);
      });
      total += records.length;
      if (!still) throw new StepAbandoned(`export chunk ${chunk} of ${entity} ${operation}`);
    }
    if (!(await closeStage(db, stageId, total, null))) throw new StepAbandoned(`export of ${entity} ${operation}`);
    return total;
  } catch (err) {
    await closeStage(db, stageId, total, (err as Error).message);
    throw err;
  }
}

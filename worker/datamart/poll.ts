// Upload status polling: every upload the mart is still processing is asked about once. An
// accepted one is done; a rejected one keeps the mart's errors and its records become
// pending again, so the next run sends them (fixed or not, the run view shows why).
import { unsendUpload } from '../../db/repositories/datamart-records.js';
import { processingUploads, settleUpload, uploadChecked } from '../../db/repositories/datamart-runs.js';
import type { WorkerContext } from '../context/context.js';
import { uploaderClient, type UploaderClient } from './uploader-client.js';

export interface PollOutcome {
  accepted: number[];
  rejected: number[];
  processing: number[];
  unreachable: number[];
}

const BATCH = 500;

export async function pollUploads(ctx: WorkerContext, client?: UploaderClient): Promise<PollOutcome> {
  const uploader = client ?? uploaderClient(ctx.config.datamart, ctx.config.dataDir, ctx.logger);
  const out: PollOutcome = { accepted: [], rejected: [], processing: [], unreachable: [] };
  for (const upload of await processingUploads(ctx.db, BATCH)) {
    let answer;
    try {
      answer = await uploader.check(upload.remote_id!);
    } catch (err) {
      // Asked again at the next poll; the last error stays visible on the upload.
      await uploadChecked(ctx.db, upload.id, [`status check failed: ${(err as Error).message}`]);
      out.unreachable.push(upload.id);
      continue;
    }
    if (answer.status === 'processing') {
      await uploadChecked(ctx.db, upload.id, answer.errors);
      out.processing.push(upload.id);
      continue;
    }
    await ctx.db.transaction().execute(async (trx) => {
      if (!(await settleUpload(trx, upload.id, answer.status, answer.errors))) return;
      if (answer.status === 'rejected') await unsendUpload(trx, upload.id);
    });
    (answer.status === 'accepted' ? out.accepted : out.rejected).push(upload.id);
    if (answer.status === 'rejected') ctx.logger.warn({ uploadId: upload.id, remoteId: upload.remote_id, errors: answer.errors }, 'data mart rejected an upload');
  }
  return out;
}

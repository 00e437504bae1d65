// The data mart's uploader (contract in docs/DATAMART.md): a file goes up as
// multipart and is answered 202 with an upload_id; its status is polled later. Every request
// times out after DATAMART_REQUEST_TIMEOUT seconds and is retried up to DATAMART_REQUEST_RETRIES
// times on network errors, timeouts, 408, 429 and 5xx, with exponential backoff and jitter.
// Any other answer is final. Re-sending a file whose 202 was lost is safe: the mart upserts by id.
// In emulation nothing is sent: the file is written under DATA_DIR/datamart and taken as accepted.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { DatamartConfig } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { DATAMART_FORMAT_VERSION } from '../../shared/datamart/entities.js';

export type RemoteStatus = 'processing' | 'accepted' | 'rejected';

export interface UploadFile {
  name: string;
  content: string;
  entity: string;
  operation: 'upsert' | 'delete';
  /** Emulation groups the files of one run in one folder. */
  runId: number;
}

export interface SentUpload {
  remoteId: string | null;
  status: 'processing' | 'accepted';
  attempts: number;
}

export interface CheckedUpload {
  status: RemoteStatus;
  errors: unknown[];
  attempts: number;
}

export interface UploaderClient {
  upload(file: UploadFile): Promise<SentUpload>;
  check(remoteId: string): Promise<CheckedUpload>;
}

export class UploaderError extends Error {
  constructor(message: string, readonly attempts: number) {
    super(message);
    this.name = 'UploaderError';
  }
}

/** An answer worth another try, or a final one. */
class Attempt extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

const MAX_DELAY_MS = 60_000;

/** Exponential backoff with jitter: between half and all of base·2^(n-1), capped. */
export function backoffMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, baseMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const uploadAnswer = z.object({ upload_id: z.union([z.string().min(1).max(200), z.number().int()]) });
const statusAnswer = z.object({
  status: z.enum(['processing', 'accepted', 'rejected']),
  errors: z.array(z.unknown()).optional(),
});

/** The mart's errors as stored and shown: at most 100, each at most 2,000 characters of JSON. */
function boundErrors(errors: unknown[] | undefined): unknown[] {
  return (errors ?? []).slice(0, 100).map((e) => {
    const text = typeof e === 'string' ? e : JSON.stringify(e);
    if (text === undefined) return null;
    return text.length <= 2000 ? e : `${text.slice(0, 2000)}…`;
  });
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Attempt(`answer ${res.status} is not JSON`, false);
  }
}

export function httpUploaderClient(config: DatamartConfig, logger: Logger): UploaderClient {
  const base = config.url!;

  async function withRetries<T>(what: string, once: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; attempts: number }> {
    let lastError = '';
    for (let attempt = 1; attempt <= config.requestRetries + 1; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1, config.retryDelayMs));
      try {
        return { value: await once(AbortSignal.timeout(config.requestTimeoutSeconds * 1000)), attempts: attempt };
      } catch (err) {
        const e = err as Error;
        if (e instanceof Attempt && !e.retryable) throw new UploaderError(`${what}: ${e.message}`, attempt);
        lastError = e.name === 'TimeoutError' ? `timed out after ${config.requestTimeoutSeconds} s` : e instanceof Attempt ? e.message : `network error: ${e.message}`;
        logger.warn({ what, attempt, err: lastError }, 'data mart request failed');
      }
    }
    throw new UploaderError(`${what}: ${lastError} (${config.requestRetries + 1} attempts)`, config.requestRetries + 1);
  }

  function checkStatus(res: Response): void {
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Attempt(`answered ${res.status}`, true);
  }

  return {
    async upload(file) {
      const { value, attempts } = await withRetries(`upload ${file.name}`, async (signal) => {
        const form = new FormData();
        form.append('datamart', config.name);
        form.append('version', String(DATAMART_FORMAT_VERSION));
        form.append('entity', file.entity);
        form.append('operation', file.operation);
        form.append('file', new Blob([file.content], { type: 'text/csv; charset=utf-8' }), file.name);
        const res = await fetch(`${base}/uploads`, { method: 'POST', body: form, signal });
        checkStatus(res);
        if (res.status !== 202 && res.status !== 200 && res.status !== 201) {
          throw new Attempt(`answered ${res.status}: ${(await res.text()).slice(0, 500)}`, false);
        }
        const parsed = uploadAnswer.safeParse(await readJson(res));
        if (!parsed.success) throw new Attempt('answer has no upload_id', false);
        return String(parsed.data.upload_id);
      });
      return { remoteId: value, status: 'processing', attempts };
    },

    async check(remoteId) {
      const { value, attempts } = await withRetries(`status of ${remoteId}`, async (signal) => {
        const res = await fetch(`${base}/uploads/${encodeURIComponent(remoteId)}`, { signal });
        checkStatus(res);
        if (res.status !== 200) throw new Attempt(`answered ${res.status}`, false);
        const parsed = statusAnswer.safeParse(await readJson(res));
        if (!parsed.success) throw new Attempt('answer has no valid status', false);
        return parsed.data;
      });
      return { status: value.status, errors: boundErrors(value.errors), attempts };
    },
  };
}

/** DATAMART_EMULATION: files written under `dataDir/datamart/run-<id>/`, accepted at once. */
export function emulatedUploaderClient(dataDir: string): UploaderClient {
  return {
    async upload(file) {
      const dir = path.join(dataDir, 'datamart', `run-${file.runId}`);
      await fs.mkdir(dir, { recursive: true });
      // The name is ours (entity, operation, sequence), never taken from outside.
      await fs.writeFile(path.join(dir, file.name), file.content, 'utf8');
      return { remoteId: null, status: 'accepted', attempts: 1 };
    },
    async check() {
      return { status: 'accepted', errors: [], attempts: 0 };
    },
  };
}

export function uploaderClient(config: DatamartConfig, dataDir: string, logger: Logger): UploaderClient {
  return config.emulation ? emulatedUploaderClient(dataDir) : httpUploaderClient(config, logger);
}

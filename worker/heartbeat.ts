// The worker's heartbeat for the container healthcheck (bin/healthcheck.ts): a file holding the
// time it was written, written every 10 s while the event loop turns and the database answers a ping.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ping } from '../db/database.js';
import type { RunningWorker } from './worker.js';

export const WORKER_HEARTBEAT = path.join(os.tmpdir(), 'attendance-worker.alive');

export function startHeartbeat(worker: RunningWorker): () => void {
  const beat = () => ping(worker.ctx.db).then(() => fs.promises.writeFile(WORKER_HEARTBEAT, String(Date.now()))).catch(() => undefined);
  void beat();
  const timer = setInterval(beat, 10_000);
  timer.unref();
  return () => clearInterval(timer);
}

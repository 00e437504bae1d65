// A batch the server could not import (`processing_failed`, docs/protocol/v4.md §5.7) is in the
// SyncReport and heard as an event; the SDK acknowledges it and sends the same rows again, stored
// once. Against the real server: the archive is spoiled after its 202, before a worker exists.
import { afterAll, expect, test } from '@jest/globals';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import type { SyncEvent } from '../../sdk/src/index.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker, type RunningWorker } from '../../worker/worker.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, controlledFetch, enrolledClient, storedFor } from './helpers.js';

// No retry of a failed import: the first failure is the package's.
const suite = useSuite({ env: { IMPORT_RETRY_LIMIT: '0', WORKER_CONCURRENCY: '1' } });
let worker: RunningWorker | null = null;
afterAll(async () => { await worker?.stop(); });

test('processing_failed is reported and the same rows go again, stored once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url, 3);
  const net = controlledFetch();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch, statusWaitSeconds: 2 }, enrolment);
  const events: SyncEvent[] = [];
  client.onEvent((e) => events.push(e));
  for (const u of users) await client.checkIn({ userId: u.id, type: 'checkin' });

  let spoiled = false;
  net.setFault(async (call, forward) => {
    if (call.method !== 'POST' || !call.path.endsWith('/datas') || spoiled) return undefined;
    const res = await forward();
    const { session_id: sessionId } = (await res.clone().json()) as { session_id: string };
    spoiled = true;
    await suite.db.updateTable('sync_sessions').set({ archive: Buffer.from('not a zip any more') }).where('id', '=', sessionId).execute();
    worker = await startWorker(suite.config, suite.databaseUrl, createLogger('test-worker', 'silent'));
    return res;
  });

  const report = await client.sync();
  expect(report.ok).toBe(true);
  expect(report.errors).toEqual([expect.objectContaining({ channel: 'synchro', code: 'processing_failed', retry: true, sessionId: expect.any(String) })]);
  expect(report.errors[0].file).toBeUndefined();
  expect(events.filter((e) => e.type === 'package-error')).toHaveLength(1);
  expect(report.channels.synchro!.sessions).toHaveLength(2); // the failed one acknowledged, then the same rows again
  expect(client.state.waiting).toBe(0);
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 3, distinctAttendances: 3 });
});

// A PUSH session whose import fails every time (issue #26 item 2): retried with the import
// queue's one policy, as a v4 session is (worker/import/session-queue.ts): each attempt counted,
// the next one put off by the back-off (5 s, doubled), given up after 1 + IMPORT_RETRY_LIMIT
// attempts, failed and shown to staff in its terminal's sessions; the other terminals' sessions
// (and the same terminal's other ones) keep being imported meanwhile.
// The fault is in the stored rows, nothing test-only in the code: the session names the school
// its terminal served when it sent it (sync_sessions.school_id), and that school's time zone is
// corrupted in the database, so reading its punches' time fails and the import throws.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { PushTerminal } from '../../simulator/push-client.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker } from '../../worker/worker.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';

const RETRY_LIMIT = 1;
let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
beforeAll(async () => {
  // No worker at first: the bad session is corrupted before anything tries it.
  stack = await startStack({ env: { IMPORT_RETRY_LIMIT: String(RETRY_LIMIT) } });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

async function terminal(schoolId: number, tag: string) {
  const sn = `${tag}${Date.now().toString(36).toUpperCase()}`;
  const res = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: schoolId, name: tag } });
  expect(res.status).toBe(201);
  return { terminal: new PushTerminal(stack.url, sn), deviceId: res.body.id as string };
}

const sessionRow = (id: string) => db.db.selectFrom('sync_sessions')
  .select(['attempts', 'outcome', 'processed_at', 'failure', sql<number | null>`extract(epoch FROM retry_at - now())::float8`.as('retry_in')])
  .where('id', '=', id).executeTakeFirstOrThrow();

const outcomes = async (deviceId: string) => (await db.db.selectFrom('sync_sessions').select(['id', 'outcome']).where('device_id', '=', deviceId).orderBy('received_at').execute());

test(`a PUSH session that fails every time is retried with the back-off, given up after ${RETRY_LIMIT + 1} attempts and shown failed; other sessions keep importing`, async () => {
  const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
  const former = await aSchool(db.db, { timezone: 'Europe/Paris' });
  await aUser(db.db, school.id, { badge: '7' });
  // The pupil also went to the former school: the bad session's punch has a user there.
  await aUser(db.db, former.id, { badge: '7' });
  const bad = await terminal(school.id, 'FAILA');
  const good = await terminal(school.id, 'FAILB');

  expect((await bad.terminal.punches([{ pin: '7', time: '2026-11-20 08:00:00', status: 0 }], 1)).body).toBe('OK: 1');
  const [{ id: badSession }] = await outcomes(bad.deviceId);
  // The corruption: this session alone reads its time in a zone that does not exist.
  await db.db.updateTable('sync_sessions').set({ school_id: former.id }).where('id', '=', badSession).execute();
  await sql`UPDATE schools SET timezone = 'Nowhere/Atlantis' WHERE id = ${former.id}`.execute(db.db);
  expect((await good.terminal.punches([{ pin: '7', time: '2026-11-20 08:05:00', status: 0 }], 1)).body).toBe('OK: 1');

  const worker = await startWorker(stack.config, stack.databaseUrl, createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent'));
  try {
    // The first attempt: counted, its error kept, the next one put off by the first back-off (5 s).
    const first = await waitFor(async () => {
      const row = await sessionRow(badSession);
      return row.attempts >= 1 && row.failure !== null ? row : undefined;
    }, 10_000, 'first failed attempt recorded');
    const firstSeen = Date.now();
    expect(first).toMatchObject({ attempts: 1, outcome: null, processed_at: null });
    expect(first.retry_in).toBeGreaterThan(3);
    expect(first.retry_in).toBeLessThanOrEqual(5);

    // Meanwhile the other terminal's session was imported, and so are new uploads of both terminals.
    await waitFor(async () => (await outcomes(good.deviceId)).every((s) => s.outcome === 'imported'), 10_000, 'the good terminal imported');
    expect((await good.terminal.punches([{ pin: '7', time: '2026-11-20 12:05:00', status: 1 }], 2)).body).toBe('OK: 1');
    expect((await bad.terminal.punches([{ pin: '7', time: '2026-11-20 12:00:00', status: 1 }], 2)).body).toBe('OK: 1');
    await waitFor(async () => {
      const [g, b] = [await outcomes(good.deviceId), await outcomes(bad.deviceId)];
      return g.length === 2 && g.every((s) => s.outcome === 'imported') && b.length === 2 && b[1].outcome === 'imported';
    }, 3000, 'new uploads imported during the back-off');
    // Still waiting out its back-off: not tried again within a second or two.
    expect(await sessionRow(badSession)).toMatchObject({ attempts: 1, outcome: null });

    // The last attempt, after the back-off: given up, failed, its error kept.
    const last = await waitFor(async () => {
      const row = await sessionRow(badSession);
      return row.processed_at !== null ? row : undefined;
    }, 15_000, 'the session given up');
    expect(Date.now() - firstSeen).toBeGreaterThan(3000);
    expect(last).toMatchObject({ attempts: RETRY_LIMIT + 1, outcome: 'failed' });
    expect(last.failure).toEqual(expect.any(String));
    // Never tried again.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await sessionRow(badSession)).attempts).toBe(RETRY_LIMIT + 1);
  } finally {
    await worker.stop();
  }

  // Staff see it: the terminal's sessions list it failed, with its attempts.
  const listed = await http(stack.url, 'GET', `/api/devices/${bad.deviceId}/sessions`, { token: staff });
  expect(listed.status).toBe(200);
  const item = (listed.body.items as Array<{ id: string; outcome: string; attempts: number }>).find((s) => s.id === badSession);
  expect(item).toMatchObject({ outcome: 'failed', attempts: RETRY_LIMIT + 1 });
  // Nothing of it was imported; everything else was, once.
  const punches = await db.db.selectFrom('attendances').select(['device_id', 'local_time']).where('device_id', 'in', [bad.deviceId, good.deviceId]).execute();
  expect(punches.filter((p) => p.device_id === good.deviceId)).toHaveLength(2);
  expect(punches.filter((p) => p.device_id === bad.deviceId)).toHaveLength(1);
}, 60_000);

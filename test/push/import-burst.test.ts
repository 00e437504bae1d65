// PUSH uploads from many terminals share their import (channels/push/session.ts): an upload
// queues no job (its pending session is the queue entry), one claim of the import queue takes
// the pending sessions of every terminal and one transaction imports them, each punch once, in
// its own terminal's school. Also the /iclock handler's
// answers for paths and methods it does not serve (plain text, never problem+json).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { PushTerminal } from '../../simulator/push-client.js';
import { createLogger } from '../../shared/logger.js';
import { startWorker } from '../../worker/worker.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
beforeAll(async () => {
  // No worker at first: the uploads' jobs are visible before anything imports them.
  stack = await startStack({});
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

async function terminalsOf(schoolId: number, count: number, tag: string) {
  return Promise.all(Array.from({ length: count }, async (_, i) => {
    const sn = `${tag}${Date.now().toString(36).toUpperCase()}X${i}`;
    const res = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: schoolId, name: `Gate ${i}` } });
    expect(res.status).toBe(201);
    return { terminal: new PushTerminal(stack.url, sn), deviceId: res.body.id as string };
  }));
}

const importJobs = async () => (await sql<{ name: string; n: number }>`
  SELECT name, count(*)::int AS n FROM pgboss.job WHERE name LIKE 'import%' GROUP BY name`.execute(db.db)).rows;

test('a burst of uploads from terminals of two schools is imported by one claim, every punch once in its school', async () => {
  const schools = [await aSchool(db.db, { timezone: 'Europe/Paris' }), await aSchool(db.db, { timezone: 'America/New_York' })];
  // The same badges in both schools: a punch belongs to the user of its terminal's school.
  const users = await Promise.all(schools.map(async (s) => Promise.all(['7', '8'].map((badge) => aUser(db.db, s.id, { badge })))));
  const fleets = [await terminalsOf(schools[0].id, 6, 'BURSTA'), await terminalsOf(schools[1].id, 6, 'BURSTB')];

  // Each terminal: three real-time punches, then one batch repeating its first punch with a new one
  // (a duplicate inside the burst), all sent at once.
  const sent = await Promise.all(fleets.flatMap((fleet) => fleet.flatMap(({ terminal }, t) => [
    terminal.punches([{ pin: '7', time: `2026-11-20 08:0${t}:00`, status: 255 }], 1),
    terminal.punches([{ pin: '8', time: `2026-11-20 08:1${t}:00`, status: 0 }], 2),
    terminal.punches([{ pin: '7', time: `2026-11-20 12:0${t}:00`, status: 255 }], 3),
    terminal.punches([{ pin: '7', time: `2026-11-20 08:0${t}:00`, status: 255 }, { pin: '8', time: `2026-11-20 16:0${t}:00`, status: 1 }], 5),
  ])));
  expect(sent.map((r) => `${r.status} ${r.body}`)).toEqual(fleets.flatMap((f) => f.flatMap(() => ['200 OK: 1', '200 OK: 1', '200 OK: 1', '200 OK: 2'])));
  // 48 uploads stored, no job: the pending sessions are the queue.
  expect(await importJobs()).toEqual([]);

  const worker = await startWorker(stack.config, stack.databaseUrl, createLogger('test', 'silent'));
  try {
    await worker.drain();
  } finally {
    await worker.stop();
  }
  const deviceIds = fleets.flat().map((f) => f.deviceId);
  const sessions = await db.db.selectFrom('sync_sessions').select(['outcome', 'acked_at', 'stats', 'attempts', 'processed_at']).where('device_id', 'in', deviceIds).execute();
  expect(sessions).toHaveLength(48);
  // Each claimed once, all by one claim: one attempt each, one transaction (one commit time).
  expect(sessions.every((s) => s.attempts === 1)).toBe(true);
  expect(new Set(sessions.map((s) => s.processed_at!.getTime())).size).toBe(1);
  expect(sessions.every((s) => s.outcome === 'imported' && s.acked_at !== null)).toBe(true);
  const totals = sessions.reduce((t, s) => ({ accepted: t.accepted + s.stats!.ATTLOG.accepted, duplicates: t.duplicates + s.stats!.ATTLOG.duplicates }), { accepted: 0, duplicates: 0 });
  expect(totals).toEqual({ accepted: 48, duplicates: 12 });
  // Still no pg-boss job: the import needed none.
  expect(await importJobs()).toEqual([]);

  for (const [s, fleet] of fleets.entries()) {
    const rows = await db.db.selectFrom('attendances').select(['user_id', 'school_id', 'type', 'type_inferred', 'device_id'])
      .where('device_id', 'in', fleet.map((f) => f.deviceId)).orderBy('device_id').orderBy('occurred_at').execute();
    expect(rows).toHaveLength(24);
    expect(new Set(rows.map((r) => r.school_id))).toEqual(new Set([schools[s].id]));
    expect(new Set(rows.map((r) => r.user_id))).toEqual(new Set(users[s].map((u) => u.id)));
    // Per terminal and badge 7: 08:0t opens, 12:0t closes (inferred, paired across sessions).
    const sevens = rows.filter((r) => r.user_id === users[s][0].id);
    expect(sevens.map((r) => [r.type, r.type_inferred])).toEqual(fleet.flatMap(() => [['checkin', true], ['checkout', true]]));
  }
  const days = await db.db.selectFrom('user_days').select(['user_id', 'seconds']).where('user_id', 'in', users.flat().map((u) => u.id)).execute();
  expect(days).toHaveLength(4);
  // Stamps moved as the uploads said, in the same transactions.
  const stamps = await db.db.selectFrom('push_terminals').select('attlog_stamp').where('device_id', 'in', deviceIds).execute();
  expect(stamps.map((s) => Number(s.attlog_stamp))).toEqual(deviceIds.map(() => 5));
});

test('uploads racing a running import are all imported, none twice', async () => {
  const school = await aSchool(db.db);
  await aUser(db.db, school.id, { badge: '1' });
  const fleet = await terminalsOf(school.id, 20, 'RACE');
  const worker = await startWorker(stack.config, stack.databaseUrl, createLogger('test', 'silent'));
  try {
    // Ten rounds of twenty concurrent uploads while the worker imports the previous ones.
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(fleet.map(({ terminal }) => terminal.punches([{ pin: '1', time: `2026-11-21 09:${String(round).padStart(2, '0')}:00`, status: 0 }])));
      expect(answers.every((a) => a.body === 'OK: 1')).toBe(true);
    }
    await worker.drain();
  } finally {
    await worker.stop();
  }
  const deviceIds = fleet.map((f) => f.deviceId);
  const pending = await db.db.selectFrom('sync_sessions').select('id').where('device_id', 'in', deviceIds).where('processed_at', 'is', null).execute();
  expect(pending).toEqual([]);
  const count = await db.db.selectFrom('attendances').select(db.db.fn.countAll<number>().as('n')).where('device_id', 'in', deviceIds).executeTakeFirstOrThrow();
  expect(Number(count.n)).toBe(200);
});

test('paths and methods /iclock does not serve are answered in plain text; paths match without case, .aspx or a trailing slash', async () => {
  const unknown = await fetch(`${stack.url}/iclock/nothing?SN=ABC`);
  expect([unknown.status, unknown.headers.get('content-type'), await unknown.text()]).toEqual([404, 'text/plain; charset=utf-8', 'NOT FOUND']);
  const wrongMethod = await fetch(`${stack.url}/iclock/devicecmd?SN=ABC`);
  expect([wrongMethod.status, await wrongMethod.text()]).toEqual([405, 'METHOD NOT ALLOWED']);
  const pendingPoll = await fetch(`${stack.url}/ICLOCK/GetRequest.aspx/?SN=ODDCASE1`);
  expect([pendingPoll.status, await pendingPoll.text()]).toEqual([200, 'OK']);
  // Everything else is still express's.
  const api = await fetch(`${stack.url}/api/nothing`);
  expect([api.status, api.headers.get('content-type')]).toEqual([404, expect.stringMatching(/^application\/problem\+json/)]);
});

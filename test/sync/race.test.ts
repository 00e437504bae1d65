// docs/protocol/v4.md §2–§3: two uploads at the same moment from one device can never both win (the
// 0→1 flip is one conditional UPDATE), and the same bytes sent twice are one session.
// To make "the same moment" certain rather than likely, the test holds a lock on the device's
// status row until both requests are waiting on it, then lets them go together.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { connectTestDatabase } from '../support/database.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool } from '../support/fixtures.js';
import type { HttpResult } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { importJobCount, sessionCount, waitFor } from './helpers.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let schoolId: number;

beforeAll(async () => {
  stack = await startStack(); // no worker: the winner stays in status 1
  db = connectTestDatabase(stack.databaseUrl);
  schoolId = (await aSchool(db.db)).id;
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

const archive = (n: number) => batchZip({ 'device.xml': deviceXml({ firmware: `race-${n}`, clock: '2026-11-20T08:00:00Z' }) });

async function newDevice(): Promise<TestDevice> {
  return new TestDevice(stack.url, await aDevice(db.db, schoolId)).signIn();
}

/** Uploads all `archives` at once while the device's status row is locked; releases it when every request waits on it. */
async function uploadTogether(dev: TestDevice, archives: Buffer[]): Promise<HttpResult[]> {
  await db.db.insertInto('sync_states').values({ school_id: schoolId, device_id: dev.identity.id, channel: 'synchro' }).execute();
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT 1 FROM sync_states WHERE device_id = $1 AND channel = 'synchro' FOR UPDATE`, [dev.identity.id]);
    const uploads = archives.map((a) => dev.upload(a));
    // Every request has stored its session row and now waits for the lock to flip 0 → 1.
    await waitFor(async () => {
      const row = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'attendance-api' AND wait_event_type = 'Lock'`.execute(db.db);
      return row.rows[0].n === archives.length;
    }, 10_000, 'both uploads waiting on the status row');
    await client.query('COMMIT');
    return await Promise.all(uploads);
  } finally {
    client.release();
  }
}

describe('two uploads at the same moment from one device', () => {
  test('different bytes: exactly one 202, the other 409 sync_in_progress naming the winner', async () => {
    const dev = await newDevice();
    const jobs = await importJobCount(db.db);
    const results = await uploadTogether(dev, [archive(1), archive(2)]);

    const won = results.filter((r) => r.status === 202);
    const lost = results.filter((r) => r.status === 409);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].body).toMatchObject({ code: 'sync_in_progress', status: 1, session_id: won[0].body.session_id });

    // The loser stored nothing: its flip found status 1, so its session row was never inserted.
    expect(await sessionCount(db.db, dev.identity.id)).toBe(1);
    expect(await importJobCount(db.db)).toBe(jobs + 1);
    expect((await dev.status()).body).toMatchObject({ status: 1, session_id: won[0].body.session_id });
  });

  test('the same bytes: both 202 with the same session_id, one session stored', async () => {
    const dev = await newDevice();
    const jobs = await importJobCount(db.db);
    const bytes = archive(3);
    const results = await uploadTogether(dev, [bytes, Buffer.from(bytes)]);

    expect(results.map((r) => r.status)).toEqual([202, 202]);
    expect(results[0].body.session_id).toBe(results[1].body.session_id);
    expect(await sessionCount(db.db, dev.identity.id)).toBe(1);
    expect(await importJobCount(db.db)).toBe(jobs + 1);
  });

  test('eight different uploads at once: one winner, seven 409s', async () => {
    const dev = await newDevice();
    const results = await uploadTogether(dev, Array.from({ length: 8 }, (_, i) => archive(10 + i)));
    const won = results.filter((r) => r.status === 202);
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.session_id === won[0].body.session_id)).toHaveLength(7);
    expect(await sessionCount(db.db, dev.identity.id)).toBe(1);
  });

  test('without any help from the test (plain concurrent requests), twenty rounds never give two winners', async () => {
    for (let round = 0; round < 20; round++) {
      const dev = await newDevice();
      const results = await Promise.all([dev.upload(archive(100 + round)), dev.upload(archive(200 + round))]);
      expect(results.map((r) => r.status).sort()).toEqual([202, 409]);
      expect(await sessionCount(db.db, dev.identity.id)).toBe(1);
    }
  });
});

describe('the same bytes again (a retry after a lost response)', () => {
  test('answers 202 with the first session, however many times', async () => {
    const dev = await newDevice();
    const bytes = archive(4);
    const first = await dev.upload(bytes);
    expect(first.status).toBe(202);
    for (let i = 0; i < 3; i++) {
      const again = await dev.upload(bytes);
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ session_id: first.body.session_id, status: 1 });
    }
    expect(await sessionCount(db.db, dev.identity.id)).toBe(1);
  });
});

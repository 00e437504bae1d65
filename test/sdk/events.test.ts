// What the SDK tells an app and a simulator about one sync, against the real server on loopback:
// the calls it makes (the protocol's minimum), the key each queued row gets and the record id it
// is later given, each refusal as an event and in the report, the 202 → status 2 timing, and a
// device that enrols with the token and roster version it already holds.
import { sql } from 'kysely';
import { expect, test } from '@jest/globals';
import { memoryStorage } from '../../sdk/src/adapters/memory.js';
import { SyncClient, type SyncEvent } from '../../sdk/src/index.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, clock, controlledFetch, enrolledClient, storedFor } from './helpers.js';

const suite = useSuite({ worker: true });

/** The calls of a log, `GET status` without its query, in order. */
const calls = (log: ReadonlyArray<{ path: string; method: string }>) => log.map((c) => `${c.method} ${c.path.replace(/\?.*$/, '')}`);

test('a sync of one batch makes the protocol\'s minimum of calls, and a later one skips the status it already knows', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url, 3);
  const net = controlledFetch();
  const client = await enrolledClient({ storage: memoryStorage(), fetch: net.fetch }, enrolment);
  for (const u of users) await client.checkIn({ userId: u.id, type: 'checkin' });
  net.log.length = 0;

  expect(await client.sync()).toMatchObject({ ok: true, channels: { synchro: { stored: 3 }, appel: { skipped: 'nothing-to-send' } } });
  // status, manifest, upload, status?wait until 2 (once: the import is quick), instructions, ack; nothing more.
  const first = calls(net.log).filter((c, i, all) => !(c === 'GET /v4/synchro/status' && all[i - 1] === c));
  expect(first).toEqual([
    'GET /v4/synchro/status', 'GET /v4/synchro/manifest', 'POST /v4/synchro/datas', 'GET /v4/synchro/status',
    'GET /v4/synchro/instructions', 'POST /v4/synchro/ack',
  ]);
  expect(net.log.filter((c) => c.path.startsWith('/v4/synchro/status?wait=')).length).toBe(net.log.filter((c) => c.path.includes('/status')).length - 1);

  // The channel is known idle after our ack: the next sync starts with the manifest.
  await client.checkIn({ userId: users[0].id, type: 'checkout' });
  net.log.length = 0;
  expect((await client.sync()).ok).toBe(true);
  expect(calls(net.log)[0]).toBe('GET /v4/synchro/manifest');
  expect(calls(net.log).filter((c) => c === 'POST /v4/synchro/datas')).toHaveLength(1);
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 4, distinctAttendances: 4 });
});

test('checkIn and mark answer a key; events give its record id, the 202 and status 2 times, and each refusal, which the report lists too', async () => {
  const { users, enrolment } = await aSchoolWithDevice(suite.db, suite.url, 2);
  const client = await enrolledClient({ storage: memoryStorage() }, enrolment);
  const events: SyncEvent[] = [];
  client.onEvent((e) => events.push(e));

  const a = await client.checkIn({ userId: users[0].id, type: 'checkin' });
  const b = await client.checkIn({ userId: 2_000_000_000, type: 'checkin' }); // no such user: refused
  const c = await client.checkIn({ userId: 2_000_000_001, type: 'checkout' }); // refused too
  const m = await client.mark({ userId: users[1].id, date: clock.today, mark: 'late', period: 'P1' });
  expect(a).toMatchObject({ channel: 'synchro', key: expect.any(Number), at: expect.any(String) });
  expect(m).toMatchObject({ channel: 'appel', key: expect.any(Number) });
  expect(new Set([a.key, b.key, c.key, m.key]).size).toBe(4);
  expect(await client.recordIdOf(a.key)).toBeNull(); // numbered when it goes into a batch

  const report = await client.sync();
  expect(report.ok).toBe(true);
  const numbered = new Map(events.flatMap((e) => (e.type === 'numbered' ? e.rows.map((r) => [r.key, r.recordId] as const) : [])));
  expect([...numbered.keys()].sort()).toEqual([a.key, b.key, c.key, m.key].sort());
  expect(await client.recordIdOf(m.key)).toBe(numbered.get(m.key));
  expect(await client.recordIdOf(a.key)).toBe(numbered.get(a.key));

  const refused = events.flatMap((e) => (e.type === 'refused' ? [e.refusal] : []));
  expect(refused.map((r) => r.key).sort()).toEqual([b.key, c.key].sort());
  expect(refused.map((r) => r.recordId).sort()).toEqual([numbered.get(b.key), numbered.get(c.key)].sort());
  expect(report.refusals).toEqual(refused);
  expect(report.channels.synchro).toMatchObject({ stored: 1, refused: 2 });
  expect(report.errors).toEqual([]);

  const accepted = events.find((e) => e.type === 'accepted');
  const ready = events.find((e) => e.type === 'ready');
  expect(accepted).toMatchObject({ channel: 'synchro', rows: 3 });
  expect(ready).toMatchObject({ channel: 'synchro', sessionId: accepted!.type === 'accepted' ? accepted!.sessionId : '' });
  if (ready?.type !== 'ready' || accepted?.type !== 'accepted') throw new Error('no accepted/ready event');
  expect(ready.acceptedAtMs).toBe(accepted.atMs);
  expect(ready.atMs).toBeGreaterThanOrEqual(accepted.atMs);

  // A later sync lists only its own refusals.
  await client.checkIn({ userId: users[1].id, type: 'checkin' });
  expect((await client.sync()).refusals).toEqual([]);
});

test('a device that holds a token and the roster enrols without a call, uses the token, and is not sent the roster again', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url, 2);
  // It signed in and synced long ago.
  const held = memoryStorage();
  const first = await enrolledClient({ storage: held }, enrolment);
  expect((await first.sync()).ok).toBe(true);
  expect(first.roster()).toHaveLength(2);
  const signIn = await fetch(`${suite.url}/v4/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ device_id: device.id, secret: device.secret }) });
  const { access_token: token } = (await signIn.json()) as { access_token: string };
  const rosterVersion = held.dump().meta.rosterVersion as number;
  expect(rosterVersion).toBeGreaterThan(0);
  await first.close();

  const net = controlledFetch();
  const client = await SyncClient.open({ storage: memoryStorage(), fetch: net.fetch, waitScale: 0.05, statusWaitSeconds: 5 });
  await client.enrol(enrolment, { accessToken: token, rosterVersion });
  expect(net.log).toEqual([]);
  expect(client.enrolled).toBe(true);
  await client.checkIn({ userId: users[0].id, type: 'checkin' });
  expect((await client.sync()).ok).toBe(true);
  expect(net.log.filter((c) => c.path.includes('/auth/token'))).toEqual([]);
  expect(await storedFor(suite.db, device.id)).toMatchObject({ attendances: 1 });
  // It reported the roster version it holds, so the server sends a delta from there, not the
  // whole roster. (Not that the delta is empty: a roster version is a snapshot's xmin, and a
  // transaction of another suite open then makes the delta repeat rows written meanwhile.)
  const reported = await sql<{ v: string }>`SELECT roster_version::text AS v FROM devices WHERE id = ${device.id}`.execute(suite.db);
  expect(Number(reported.rows[0].v)).toBe(rosterVersion);

  // check: false makes no call either; the first sync signs in.
  const net2 = controlledFetch();
  const later = await SyncClient.open({ storage: memoryStorage(), fetch: net2.fetch, waitScale: 0.05, statusWaitSeconds: 5 });
  await later.enrol(enrolment, { check: false });
  expect(net2.log).toEqual([]);
  expect((await later.sync()).ok).toBe(true);
  expect(net2.log[0].path).toBe('/v4/auth/token');
});

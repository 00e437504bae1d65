// RESEND_SINCE (docs/protocol/v4.md §6): `since` is a day of the school (its time zone); the manifest
// asks for one window of at most 31 days per sync; a window counts once a batch uploaded after
// the manifest offered it is imported; the flag is delivered with the batch covering the last
// window (the one "now" cuts short) and applied on acknowledgement. Progress shows on the flag.
import { beforeAll, expect, test } from '@jest/globals';
import { localDateOf, startOfLocalDay } from '../../shared/time/zoned.js';
import { aFlagWorld, aSyncingDevice, batch, flagNames, flagOf, fullSync, setFlag, type FlagWorld } from './support.js';
import { useSuite } from '../support/suite.js';

const TZ = 'Asia/Ho_Chi_Minh'; // UTC+07:00: a school day starts at 17:00Z the day before
const DAY = 86_400_000;

const suite = useSuite({ worker: true });
let w: FlagWorld;

beforeAll(async () => {
  w = await aFlagWorld(suite.url, suite.db, { timezone: TZ });
});

const iso = (ms: number) => new Date(ms).toISOString();

test('a resend over 70 days is served in three windows, one per sync, then applied', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const since = localDateOf(Date.now() - 70 * DAY, TZ);
  const start = startOfLocalDay(since, TZ).getTime();
  expect(iso(start)).toMatch(/T17:00:00\.000Z$/);

  const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESEND_SINCE', params: { since } });
  expect(set.status).toBe(201);
  expect(set.body.progress).toEqual({ since, next_from: iso(start), windows_done: 0, windows_total: 3, rows_received: 0 });

  // Window 1: [since, since + 31 d). Two rows inside it, one recent row outside.
  const m1 = await dev.manifest();
  expect(m1.body.resend).toEqual({ file: 'attendances.csv', from: iso(start), to: iso(start + 31 * DAY) });
  const user = w.users[0].id;
  const first = await fullSync(dev, batch({ rows: [
    { record_id: 1, user_id: user, type: 'checkin', occurred_at: iso(start + 1 * DAY) },
    { record_id: 2, user_id: user, type: 'checkout', occurred_at: iso(start + 1 * DAY + 3_600_000) },
    { record_id: 3, user_id: user, type: 'checkin', occurred_at: iso(Date.now() - 3_600_000) },
  ] }));
  expect(first.manifest.body.resend.from).toBe(iso(start));
  expect(flagNames(first.pkg)).toEqual([]);
  let flag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id);
  expect(flag.state).toBe('pending');
  expect(flag.progress).toEqual({ since, next_from: iso(start + 31 * DAY), windows_done: 1, windows_total: 3, rows_received: 2 });

  // An upload the device made without reading the manifest covers no window.
  await dev.sync(batch({ rows: [{ record_id: 4, user_id: user, type: 'checkin', occurred_at: iso(start + 40 * DAY) }] }));
  flag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id);
  expect(flag.progress).toMatchObject({ windows_done: 1, rows_received: 2 });

  // Window 2: the next 31 days.
  const second = await fullSync(dev, batch({ rows: [{ record_id: 5, user_id: user, type: 'checkout', occurred_at: iso(start + 40 * DAY + 3_600_000) }] }));
  expect(second.manifest.body.resend).toEqual({ file: 'attendances.csv', from: iso(start + 31 * DAY), to: iso(start + 62 * DAY) });
  expect(flagNames(second.pkg)).toEqual([]);
  flag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id);
  expect(flag.progress).toMatchObject({ windows_done: 2, windows_total: 3, rows_received: 3 });

  // Window 3 reaches now: the package covering it carries the flag.
  const third = await fullSync(dev, batch());
  expect(third.manifest.body.resend).toEqual({ file: 'attendances.csv', from: iso(start + 62 * DAY), to: third.manifest.body.server_time });
  expect(third.pkg.all('flag')).toEqual([{ id: String(set.body.id), name: 'RESEND_SINCE', since }]);
  flag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id);
  expect(flag.state).toBe('applied');
  expect(flag.progress).toMatchObject({ windows_done: 3, windows_total: 3, rows_received: 3 });
  expect((await dev.manifest()).body.resend).toBeUndefined();
});

test('a resend within the last 31 days is one window, delivered by the first covering batch', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const since = localDateOf(Date.now() - 3 * DAY, TZ);
  const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESEND_SINCE', params: { since } });
  expect(set.body.progress).toMatchObject({ windows_done: 0, windows_total: 1 });
  const cycle = await fullSync(dev, batch({ rows: [{ record_id: 1, user_id: w.users[1].id, type: 'checkin', occurred_at: iso(Date.now() - 2 * DAY) }] }));
  expect(cycle.manifest.body.resend.from).toBe(startOfLocalDay(since, TZ).toISOString());
  expect(flagNames(cycle.pkg)).toEqual(['RESEND_SINCE']);
  expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id)).progress).toMatchObject({ windows_done: 1, windows_total: 1, rows_received: 1 });
});

test('replacing a resend in progress starts over from the new day', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const first = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESEND_SINCE', params: { since: localDateOf(Date.now() - 80 * DAY, TZ) } });
  await fullSync(dev, batch());
  expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, first.body.id)).progress.windows_done).toBe(1);

  const since = localDateOf(Date.now() - 10 * DAY, TZ);
  const again = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESEND_SINCE', params: { since } });
  expect(again.body).toMatchObject({ id: first.body.id, replaced: true, params: { since } });
  expect(again.body.progress).toMatchObject({ windows_done: 0, windows_total: 1, rows_received: 0 });
  expect((await dev.manifest()).body.resend.from).toBe(startOfLocalDay(since, TZ).toISOString());
});

test('since must be a real day that has begun in the school; the answer lists the known flags', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const tomorrow = localDateOf(Date.now() + DAY, TZ);
  for (const params of [{ since: tomorrow }, { since: '2026-02-30' }, {}, { since: '2026-11-01', until: '2026-11-02' }, undefined]) {
    const res = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESEND_SINCE', params });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toMatch(/^body\.params/);
    expect(res.body.known_flags.map((f: { name: string }) => f.name)).toContain('RESEND_SINCE');
  }
  expect((await dev.manifest()).body.resend).toBeUndefined();
});

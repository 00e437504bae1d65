// docs/protocol/v4.md §5 roster: the full roster on first sync (or when RELOAD_ROSTER is set), then
// only what changed since the roster_version the device reports — the version it got last.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { batchZip, deviceXml, readPackage, TestDevice, type Package } from '../support/device-client.js';
import { aDevice, aSchool, aUser } from '../support/fixtures.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let schoolId: number;
let otherSchoolId: number;

beforeAll(async () => {
  schoolId = (await aSchool(suite.db)).id;
  otherSchoolId = (await aSchool(suite.db)).id;
  for (let i = 0; i < 4; i++) await aUser(suite.db, schoolId);
  await aUser(suite.db, otherSchoolId);
  const leaver = await aUser(suite.db, schoolId, { name: 'Gone, "Soon"' });
  await suite.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', leaver.id).execute();
});

interface RosterLine { user_id: string; name: string; badge: string; active: string }

function rosterOf(pkg: Package): { element: Record<string, string> | undefined; rows: RosterLine[] | null } {
  const element = pkg.all('roster')[0];
  const file = pkg.files['roster.csv'];
  return { element, rows: file === undefined ? null : parse(file, { columns: true, skip_empty_lines: true }) as RosterLine[] };
}

async function schoolRoster(): Promise<RosterLine[]> {
  const users = await suite.db.selectFrom('users').select(['id', 'name', 'badge', 'deleted_at']).where('school_id', '=', schoolId).orderBy('id').execute();
  return users.map((u) => ({ user_id: String(u.id), name: u.name, badge: u.badge, active: u.deleted_at ? '0' : '1' }));
}

/**
 * A roster version is a transaction-id horizon and xids are server-wide: while a transaction
 * is open anywhere on the server (another suite's, here), the horizon waits and a delta may
 * repeat rows the device already holds. Repeats are harmless (a roster row is idempotent);
 * what must hold is that every change is there and every row is the user's current state.
 */
async function expectDelta(rows: RosterLine[] | null, mustInclude: RosterLine[]): Promise<void> {
  const current = await schoolRoster();
  for (const row of mustInclude) expect(rows).toContainEqual(row);
  for (const row of rows ?? []) expect(current).toContainEqual(row);
}

const upload = (rosterVersion?: number) => batchZip({ 'device.xml': deviceXml({ rosterVersion }) });

/**
 * Syncs until the package's roster covers changes made before it: the version is the cluster's
 * transaction horizon, so a long transaction elsewhere (another suite's big import on the same
 * PostgreSQL) holds it back, and the device gets the change at a later sync — as a real one would.
 */
async function syncPast(dev: TestDevice, version: number): Promise<Package> {
  for (let attempt = 0; ; attempt++) {
    const { pkg } = await dev.sync(upload(version));
    const v = Number(rosterOf(pkg).element?.version ?? version);
    if (v > version || attempt >= 40) return pkg;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('a device keeping its roster in step', () => {
  let dev: TestDevice;
  let version: number;
  let firstVersion: number;
  const changed: number[] = [];

  beforeAll(async () => {
    dev = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
  });

  test('first sync (roster_version 0): the full roster of its school, deactivated users included as inactive', async () => {
    const { pkg } = await dev.sync(upload(0));
    const { element, rows } = rosterOf(pkg);
    expect(element).toMatchObject({ mode: 'full', file: 'roster.csv', version: expect.stringMatching(/^\d+$/) });
    expect(rows).toEqual(await schoolRoster());
    expect(rows!.filter((r) => r.active === '0').map((r) => r.name)).toEqual(['Gone, "Soon"']);
    version = Number(element!.version);
    firstVersion = version;
  });

  test('nothing changed since that version: no roster in the package (at most repeats, see expectDelta)', async () => {
    const { pkg } = await dev.sync(upload(version));
    const { element, rows } = rosterOf(pkg);
    if (element) expect(element).toMatchObject({ mode: 'delta' });
    await expectDelta(rows, []);
  });

  test('a user created and another renamed: the delta carries those two with their new values', async () => {
    const created = await aUser(suite.db, schoolId, { name: 'New Pupil' });
    const renamed = (await schoolRoster())[0];
    await suite.db.updateTable('users').set({ name: 'Renamed, with "quotes"' }).where('id', '=', Number(renamed.user_id)).execute();
    await aUser(suite.db, otherSchoolId, { name: 'Elsewhere' }); // another school's change is not ours

    const pkg = await syncPast(dev, version);
    const { element, rows } = rosterOf(pkg);
    expect(element).toMatchObject({ mode: 'delta', file: 'roster.csv' });
    expect(Number(element!.version)).toBeGreaterThan(version);
    await expectDelta(rows, [
      { user_id: renamed.user_id, name: 'Renamed, with "quotes"', badge: renamed.badge, active: '1' },
      { user_id: String(created.id), name: 'New Pupil', badge: created.badge, active: '1' },
    ]);
    version = Number(element!.version);
    changed.push(Number(renamed.user_id), created.id);
  });

  test('a user deactivated: the delta says inactive', async () => {
    const target = (await schoolRoster()).find((r) => r.active === '1' && r.name.startsWith('User '))!;
    await suite.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', Number(target.user_id)).execute();
    const pkg = await syncPast(dev, version);
    const { element, rows } = rosterOf(pkg);
    expect(element).toMatchObject({ mode: 'delta' });
    await expectDelta(rows, [{ ...target, active: '0' }]);
    version = Number(element!.version);
    changed.push(Number(target.user_id));
  });

  test('the device reports what it holds: an older version gets everything changed since then', async () => {
    const { pkg } = await dev.sync(upload(firstVersion));
    const { element, rows } = rosterOf(pkg);
    expect(element).toMatchObject({ mode: 'delta' });
    expect(rows!.map((r) => Number(r.user_id))).toEqual(expect.arrayContaining(changed));
    await expectDelta(rows, []);
    const device = await suite.db.selectFrom('devices').select('roster_version').where('id', '=', dev.identity.id).executeTakeFirstOrThrow();
    expect(device.roster_version).toBe(firstVersion);
  });

  test('RELOAD_ROSTER: the full roster although the device is up to date; the flag rides on the package and is applied on ack', async () => {
    const flag = await suite.db.insertInto('device_flags').values({ school_id: schoolId, device_id: dev.identity.id, name: 'RELOAD_ROSTER' }).returning('id').executeTakeFirstOrThrow();
    const up = await dev.upload(upload(version));
    expect(up.status).toBe(202);
    await dev.waitForStatus(2);
    const res = await dev.instructions();
    const pkg = readPackage(res.body as Buffer);
    const { element, rows } = rosterOf(pkg);
    expect(element).toMatchObject({ mode: 'full' });
    expect(rows).toEqual(await schoolRoster());
    expect(pkg.all('flag')).toEqual([{ id: String(flag.id), name: 'RELOAD_ROSTER' }]);

    const before = await suite.db.selectFrom('device_flags').select(['delivered_in', 'applied_at']).where('id', '=', flag.id).executeTakeFirstOrThrow();
    expect(before).toEqual({ delivered_in: up.body.session_id, applied_at: null });
    expect((await dev.ack(up.body.session_id)).status).toBe(200);
    const after = await suite.db.selectFrom('device_flags').select('applied_at').where('id', '=', flag.id).executeTakeFirstOrThrow();
    expect(after.applied_at).toBeInstanceOf(Date);

    // Applied: the next sync is back to deltas. Nothing changed, so none is due, unless another
    // transaction of the cluster (another suite's) was running when the full roster was built:
    // versions are transaction horizons (db/repositories/roster.ts), so a delta may then send
    // the users written meanwhile again. Never the full roster twice.
    const next = await dev.sync(upload(Number(element!.version)));
    expect(rosterOf(next.pkg).element?.mode ?? 'none').not.toBe('full');
  });
});

test('a device.xml without roster_version counts as a first sync: full roster', async () => {
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, schoolId)).signIn();
  const { pkg } = await dev.sync(batchZip({ 'device.xml': `<device><clock>${new Date().toISOString()}</clock></device>` }));
  const { element, rows } = rosterOf(pkg);
  expect(element).toMatchObject({ mode: 'full' });
  expect(rows).toEqual(await schoolRoster());
});

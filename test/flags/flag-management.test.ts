// Managing flags from the backoffice: validation against the catalogue, replacement of a pending
// flag, cancellation rules, expiry, school-wide flags, the audit trail, and who may do what.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { FLAG_NAMES } from '../../shared/protocol/flags.js';
import { aDevice, aSchool, aStaff, deviceToken, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { aFlagWorld, aSyncingDevice, batch, flagNames, flagOf, fullSync, setFlag, sleep, syncUntilReady, type FlagWorld } from './support.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let w: FlagWorld;

beforeAll(async () => {
  w = await aFlagWorld(suite.url, suite.db);
});

const del = (deviceId: string, flagId: number, token = w.backoffice.token) => http(suite.url, 'DELETE', `/api/devices/${deviceId}/flags/${flagId}`, { token });
const list = (deviceId: string, query = '', token = w.backoffice.token) => http(suite.url, 'GET', `/api/devices/${deviceId}/flags${query}`, { token });
const events = (deviceId: string, query = '', token = w.backoffice.token) => http(suite.url, 'GET', `/api/devices/${deviceId}/flags/events${query}`, { token });

describe('validation', () => {
  test('an unknown flag or bad parameters answer 422 listing the known flags, and nothing is set', async () => {
    const dev = await aDevice(suite.db, w.school.id);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'WIPE_EVERYTHING' }, 'body.name'],
      [{ name: 'full_resync' }, 'body.name'],
      [{ name: 'FULL_RESYNC', params: { hard: true } }, 'body.params'],
      [{ name: 'SET_SETTINGS', params: { 'Bad-Name': 1 } }, 'body.params.Bad-Name'],
      [{ name: 'SET_SETTINGS', params: {} }, 'body.params'],
      [{ name: 'SET_SETTINGS', params: { volume: 'x'.repeat(1001) } }, 'body.params.volume'],
      [{ name: 'REBOOT', params: 'now' }, 'body.params'],
      [{ name: 'REBOOT', expires_at: new Date(Date.now() - 1000).toISOString() }, 'body.expires_at'],
      [{ name: 'RESET_SESSION', expires_at: new Date(Date.now() + 60_000).toISOString() }, 'body.expires_at'],
    ];
    for (const [body, field] of cases) {
      const res = await setFlag(suite.url, w.backoffice.token, dev.id, body);
      expect([res.status, res.body.code]).toEqual([422, 'validation_failed']);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(res.body.known_flags.map((f: { name: string }) => f.name)).toEqual([...FLAG_NAMES]);
    }
    expect((await list(dev.id)).body.items).toEqual([]);
  });

  test('a device or school that does not exist is 404', async () => {
    expect((await setFlag(suite.url, w.backoffice.token, '00000000-0000-4000-8000-000000000000', { name: 'REBOOT' })).status).toBe(404);
    expect((await http(suite.url, 'POST', '/api/schools/999999/flags', { token: w.backoffice.token, body: { name: 'REBOOT' } })).status).toBe(404);
  });
});

describe('replacement', () => {
  test('setting a flag already pending replaces it: same id, newer parameters, delivered once', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const first = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'SET_SETTINGS', params: { volume: 3, beep: 'on' } });
    const second = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'SET_SETTINGS', params: { volume: 5 } });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ id: first.body.id, replaced: true, state: 'pending', params: { volume: '5' } });
    const pending = (await list(dev.identity.id, '?state=pending')).body.items;
    expect(pending.map((f: { id: number }) => f.id)).toEqual([first.body.id]);

    const cycle = await fullSync(dev, batch());
    expect(cycle.pkg.xml).toContain('<settings><volume>5</volume></settings>');
    expect(flagNames(cycle.pkg)).toEqual(['SET_SETTINGS']);

    // Once delivered, the same name sets a new flag.
    const third = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'SET_SETTINGS', params: { volume: 9 } });
    expect(third.body).toMatchObject({ replaced: false, state: 'pending' });
    expect(third.body.id).not.toBe(first.body.id);
  });
});

describe('cancellation', () => {
  test('a pending flag can be cancelled and is then never delivered; a second cancel is 409', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
    const cancelled = await del(dev.identity.id, set.body.id);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: set.body.id, state: 'cancelled' });
    expect(cancelled.body.cancelled_at).not.toBeNull();
    expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual([]);

    const again = await del(dev.identity.id, set.body.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'flag_not_pending', state: 'cancelled' });
  });

  test('once delivered (and once applied) a flag cannot be cancelled', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RELOAD_ROSTER' });
    const cycle = await syncUntilReady(dev, batch());
    const delivered = await del(dev.identity.id, set.body.id);
    expect([delivered.status, delivered.body.code, delivered.body.state]).toEqual([409, 'flag_not_pending', 'delivered']);
    await dev.ack(cycle.sessionId);
    const applied = await del(dev.identity.id, set.body.id);
    expect([applied.status, applied.body.state]).toEqual([409, 'applied']);
    expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id)).state).toBe('applied');
  });

  test("a flag is cancelled only through its own device: another device's flag id is 404", async () => {
    const a = await aDevice(suite.db, w.school.id);
    const b = await aDevice(suite.db, w.school.id);
    const set = await setFlag(suite.url, w.backoffice.token, a.id, { name: 'REBOOT' });
    expect((await del(b.id, set.body.id)).status).toBe(404);
    expect((await del(a.id, 987654321)).status).toBe(404);
    expect((await flagOf(suite.url, w.backoffice.token, a.id, set.body.id)).state).toBe('pending');
  });
});

describe('expiry', () => {
  test('an expired pending flag is never delivered, shows as expired, and frees its name', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const expiresAt = new Date(Date.now() + 1500);
    const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT', expires_at: expiresAt.toISOString() });
    expect(set.body).toMatchObject({ state: 'pending', expires_at: expiresAt.toISOString() });
    await sleep(1800);

    expect((await list(dev.identity.id)).body.items[0]).toMatchObject({ id: set.body.id, state: 'expired' });
    expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual([]);
    expect((await del(dev.identity.id, set.body.id)).body.state).toBe('expired');
    const trail = (await events(dev.identity.id, `?flag_id=${set.body.id}`)).body.items;
    expect(trail.map((e: { action: string }) => e.action)).toEqual(['expired', 'set']);
    expect(trail[0]).toMatchObject({ staff_id: null, at: expiresAt.toISOString() });

    const fresh = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
    expect(fresh.body).toMatchObject({ state: 'pending', replaced: false });
    expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual(['REBOOT']);
  });
});

describe('school-wide flags', () => {
  test("reach every device of the school exactly once, and no other school's device", async () => {
    const school = await aSchool(suite.db);
    const devices = [await aSyncingDevice(suite.url, suite.db, school.id), await aSyncingDevice(suite.url, suite.db, school.id), await aSyncingDevice(suite.url, suite.db, school.id)];
    const outsider = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const already = await setFlag(suite.url, w.backoffice.token, devices[0].identity.id, { name: 'REBOOT' });

    const res = await http(suite.url, 'POST', `/api/schools/${school.id}/flags`, { token: w.backoffice.token, body: { name: 'REBOOT' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ school_id: school.id, name: 'REBOOT' });
    expect(res.body.items.map((f: { device_id: string }) => f.device_id).sort()).toEqual(devices.map((d) => d.identity.id).sort());
    expect(res.body.items.find((f: { device_id: string }) => f.device_id === devices[0].identity.id)).toMatchObject({ id: already.body.id, replaced: true });

    for (const dev of devices) {
      expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual(['REBOOT']);
      expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual([]);
    }
    expect((await list(outsider.identity.id)).body.items).toEqual([]);
    expect(flagNames((await fullSync(outsider, batch())).pkg)).toEqual([]);
    const trail = (await events(devices[1].identity.id)).body.items;
    expect(trail.find((e: { action: string }) => e.action === 'set')).toMatchObject({ staff_id: w.backoffice.id, details: { school_id: school.id } });
  });

  test('RESET_SESSION school-wide closes the busy channels of that school at once', async () => {
    const school = await aSchool(suite.db);
    const busy = await aSyncingDevice(suite.url, suite.db, school.id);
    const idle = await aSyncingDevice(suite.url, suite.db, school.id);
    await syncUntilReady(busy, batch());
    const res = await http(suite.url, 'POST', `/api/schools/${school.id}/flags`, { token: w.backoffice.token, body: { name: 'RESET_SESSION' } });
    expect(res.status).toBe(201);
    expect(res.body.items.map((f: { state: string }) => f.state)).toEqual(['applied', 'applied']);
    expect((await busy.status()).body.status).toBe(0);
    expect((await idle.status()).body.status).toBe(0);
  });
});

describe('audit trail', () => {
  test('records who set, replaced and cancelled a flag and when, newest first, paged', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const other = await aStaff(suite.db, 'backoffice');
    const otherToken = await loginAs(suite.url, other);
    const t0 = Date.now();
    const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'SET_SETTINGS', params: { volume: 1 } });
    await setFlag(suite.url, otherToken, dev.identity.id, { name: 'SET_SETTINGS', params: { volume: 2 } });
    await del(dev.identity.id, set.body.id, otherToken);
    const reboot = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
    await fullSync(dev, batch());

    const all = (await events(dev.identity.id)).body.items;
    expect(all.map((e: any) => [e.flag_name, e.action, e.staff_id])).toEqual([
      ['REBOOT', 'applied', null],
      ['REBOOT', 'delivered', null],
      ['REBOOT', 'set', w.backoffice.id],
      ['SET_SETTINGS', 'cancelled', other.id],
      ['SET_SETTINGS', 'replaced', other.id],
      ['SET_SETTINGS', 'set', w.backoffice.id],
    ]);
    expect(all[3].staff_email).toBe(other.email);
    expect(all[4].details).toMatchObject({ params: { volume: '2' }, previous: { params: { volume: '1' }, set_by: w.backoffice.id } });
    expect(all[1].session_id).toBe(all[0].session_id);
    const times = all.map((e: { at: string }) => Date.parse(e.at));
    expect(times.every((t: number) => t >= t0 - 1000 && t <= Date.now())).toBe(true);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.filter((e: { flag_id: number }) => e.flag_id === reboot.body.id)).toHaveLength(3);

    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await events(dev.identity.id, `?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      paged.push(...page.body.items.map((e: { id: number }) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.map((e: { id: number }) => e.id));
  });
});

describe('scope', () => {
  test('a school admin reads the flags, trail and sessions of their school\'s devices but cannot set or cancel flags', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
    await fullSync(dev, batch());
    const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', w.school.id));
    const id = dev.identity.id;

    expect((await list(id, '', admin)).body.items.map((f: { id: number }) => f.id)).toEqual([set.body.id]);
    expect((await events(id, '', admin)).status).toBe(200);
    expect((await http(suite.url, 'GET', `/api/devices/${id}/flags/${set.body.id}`, { token: admin })).status).toBe(200);
    expect((await http(suite.url, 'GET', `/api/devices/${id}/sessions`, { token: admin })).body.items).toHaveLength(1);

    const refused = await setFlag(suite.url, admin, id, { name: 'REBOOT' });
    expect([refused.status, refused.body.code]).toEqual([403, 'forbidden']);
    expect((await del(id, set.body.id, admin)).status).toBe(403);
    expect((await http(suite.url, 'POST', `/api/schools/${w.school.id}/flags`, { token: admin, body: { name: 'REBOOT' } })).status).toBe(403);
    expect((await list(id, '?state=pending')).body.items).toEqual([]);
  });

  test("another school's admin sees nothing of the device (404), a device token reaches nothing (401)", async () => {
    const dev = await aDevice(suite.db, w.school.id);
    const set = await setFlag(suite.url, w.backoffice.token, dev.id, { name: 'REBOOT' });
    const otherSchool = await aSchool(suite.db);
    const stranger = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', otherSchool.id));
    for (const path of [`/api/devices/${dev.id}/flags`, `/api/devices/${dev.id}/flags/events`, `/api/devices/${dev.id}/flags/${set.body.id}`, `/api/devices/${dev.id}/sessions`]) {
      expect((await http(suite.url, 'GET', path, { token: stranger })).status).toBe(404);
      expect((await http(suite.url, 'GET', path, { token: await deviceToken(suite.url, dev) })).status).toBe(401);
    }
  });
});

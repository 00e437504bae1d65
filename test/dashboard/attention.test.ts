// The "needs attention" list behind the dashboard's backoffice panel: every reason the issue
// names (stuck in status 1, stuck in status 2, silent longer than the sync interval, clock off),
// each device saying which apply, and the one-click remedies clearing what they should.
import { beforeAll, describe, expect, test } from '@jest/globals';
import { aDevice, aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ env: { SYNC_STUCK_AFTER_SECONDS: '600', ACK_STUCK_AFTER_SECONDS: '3600' } });
let backoffice: string;

beforeAll(async () => {
  backoffice = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
});

const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);
const get = (path: string, token = backoffice) => http(suite.url, 'GET', path, { token });

/** A device seen a minute ago with a sane clock, then whatever the test changes. */
async function aDeviceWith(schoolId: number, state: { channel?: { status: 0 | 1 | 2; since: number }; lastSeen?: number | null; skew?: number; interval?: number; disabled?: boolean }) {
  const device = await aDevice(suite.db, schoolId, { disabled: state.disabled });
  await suite.db.updateTable('devices').set({
    last_seen_at: state.lastSeen === null ? null : ago(state.lastSeen ?? 60), clock_skew_seconds: state.skew ?? 2, sync_interval_seconds: state.interval ?? 300,
  }).where('id', '=', device.id).execute();
  if (state.channel) {
    await suite.db.insertInto('sync_states').values({ school_id: schoolId, device_id: device.id, channel: 'synchro', status: state.channel.status, changed_at: ago(state.channel.since) }).execute();
  }
  return device;
}

describe('GET /api/devices?attention=true', () => {
  test('lists each reason the dashboard shows, and nothing for healthy, new or disabled devices', async () => {
    const school = await aSchool(suite.db);
    const importing = await aDeviceWith(school.id, { channel: { status: 1, since: 700 } });
    const unacknowledged = await aDeviceWith(school.id, { channel: { status: 2, since: 3700 } });
    const silent = await aDeviceWith(school.id, { lastSeen: 400, interval: 300 });
    const clockAhead = await aDeviceWith(school.id, { skew: 301 });
    const clockBehind = await aDeviceWith(school.id, { skew: -900, lastSeen: 4000, channel: { status: 2, since: 4000 } });
    // Below every threshold, never seen, or disabled: none of these needs anyone.
    await aDeviceWith(school.id, { channel: { status: 1, since: 500 } });
    await aDeviceWith(school.id, { channel: { status: 2, since: 3500 }, skew: 300 });
    await aDeviceWith(school.id, { lastSeen: 400, interval: 600 });
    await aDeviceWith(school.id, { lastSeen: null });
    await aDeviceWith(school.id, { disabled: true, lastSeen: 90_000, skew: 5000 });

    const listed = await get(`/api/devices?school_id=${school.id}&attention=true`);
    expect(listed.status).toBe(200);
    const reasons = Object.fromEntries(listed.body.items.map((d: { id: string; attention_reasons: string[] }) => [d.id, d.attention_reasons]));
    expect(reasons).toEqual({
      [importing.id]: ['stuck_processing'],
      [unacknowledged.id]: ['ack_overdue'],
      [silent.id]: ['silent'],
      [clockAhead.id]: ['clock_off'],
      [clockBehind.id]: ['ack_overdue', 'silent', 'clock_off'],
    });
    expect(listed.body.items.find((d: { id: string }) => d.id === importing.id).channels.synchro).toMatchObject({ status: 1, processing_overdue: true, ack_overdue: false });

    // The full list says the same of every device, and needs_attention follows the reasons.
    const all = (await get(`/api/devices?school_id=${school.id}`)).body.items as Array<{ id: string; attention_reasons: string[]; needs_attention: boolean }>;
    expect(all).toHaveLength(10);
    expect(Object.fromEntries(all.filter((d) => d.needs_attention).map((d) => [d.id, d.attention_reasons]))).toEqual(reasons);
    expect(all.filter((d) => !d.needs_attention).every((d) => d.attention_reasons.length === 0)).toBe(true);
  });

  test('pages through the list without repeats, and a school admin sees only their school', async () => {
    const school = await aSchool(suite.db);
    const other = await aSchool(suite.db);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await aDeviceWith(school.id, { skew: 600 })).id);
    const elsewhere = await aDeviceWith(other.id, { skew: 600 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; next_cursor: string | null } } = await get(`/api/devices?school_id=${school.id}&attention=true&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((d) => d.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].sort());

    const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
    const own = (await get('/api/devices?attention=true', admin)).body.items.map((d: { id: string }) => d.id);
    expect(own.sort()).toEqual([...ids].sort());
    expect(own).not.toContain(elsewhere.id);
  });

  test('the reset-session remedy takes a stuck device off the list; the full-resync remedy is pending for its next sync', async () => {
    const school = await aSchool(suite.db);
    const stuck = await aDeviceWith(school.id, { channel: { status: 1, since: 3600 } });
    expect((await get(`/api/devices?school_id=${school.id}&attention=true`)).body.items.map((d: { id: string }) => d.id)).toEqual([stuck.id]);

    const reset = await http(suite.url, 'POST', `/api/devices/${stuck.id}/flags`, { token: backoffice, body: { name: 'RESET_SESSION' } });
    expect(reset.status).toBe(201);
    expect((await get(`/api/devices?school_id=${school.id}&attention=true`)).body.items).toEqual([]);

    const resync = await http(suite.url, 'POST', `/api/devices/${stuck.id}/flags`, { token: backoffice, body: { name: 'FULL_RESYNC' } });
    expect(resync.status).toBe(201);
    expect((await get(`/api/devices/${stuck.id}`)).body).toMatchObject({ pending_flags: ['FULL_RESYNC'], needs_attention: false, channels: { synchro: { status: 0 } } });
  });

  test('a PUSH terminal whose calls are held from another address, or from two at once, is listed with that reason (issue #33 §4)', async () => {
    const school = await aSchool(suite.db);
    const moved = await aDeviceWith(school.id, {});
    const twice = await aDeviceWith(school.id, {});
    await suite.db.updateTable('devices').set({ address_alert: 'address_changed' }).where('id', '=', moved.id).execute();
    await suite.db.updateTable('devices').set({ address_alert: 'address_conflict' }).where('id', '=', twice.id).execute();
    const listed = await get(`/api/devices?school_id=${school.id}&attention=true`);
    expect(Object.fromEntries(listed.body.items.map((d: { id: string; attention_reasons: string[] }) => [d.id, d.attention_reasons]))).toEqual({
      [moved.id]: ['address_changed'], [twice.id]: ['address_conflict'],
    });
  });

  test('behind_since is the last device clock once it is older than the sync interval', async () => {
    const school = await aSchool(suite.db);
    const current = await aDeviceWith(school.id, {});
    const behind = await aDeviceWith(school.id, { interval: 300 });
    const clock = ago(2 * 3600);
    await suite.db.updateTable('devices').set({ last_device_clock: ago(30) }).where('id', '=', current.id).execute();
    await suite.db.updateTable('devices').set({ last_device_clock: clock }).where('id', '=', behind.id).execute();
    const byId = Object.fromEntries((await get(`/api/devices?school_id=${school.id}`)).body.items.map((d: { id: string }) => [d.id, d]));
    expect(byId[current.id].behind_since).toBeNull();
    expect(byId[behind.id]).toMatchObject({ behind_since: clock.toISOString(), complete_until: clock.toISOString() });
  });
});

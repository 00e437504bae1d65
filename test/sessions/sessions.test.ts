// Sessions history and device health as the backoffice reads them: a device's sessions newest
// first with their counts and outcome, one session with its rejections and its package, the
// health fields of /api/devices, and the devices whose package waits unacknowledged too long.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { aFlagWorld, aSyncingDevice, batch, fullSync, setFlag, syncUntilReady, type FlagWorld } from '../flags/support.js';
import { useSuite } from '../support/suite.js';

const ACK_STUCK_AFTER_SECONDS = 30;

const suite = useSuite({ worker: true, env: { ACK_STUCK_AFTER_SECONDS: String(ACK_STUCK_AFTER_SECONDS) } });
let w: FlagWorld;

beforeAll(async () => {
  w = await aFlagWorld(suite.url, suite.db);
});

const get = (path: string, token = w.backoffice.token) => http(suite.url, 'GET', path, { token });
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

describe('history', () => {
  test("a device's sessions, newest first, with channel, times, outcome, counts and rejections; paged", async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const user = w.users[0].id;
    const row1 = { record_id: 1, user_id: user, type: 'checkin', occurred_at: hoursAgo(5) };
    const first = await fullSync(dev, batch({ rows: [row1] }));
    const second = await fullSync(dev, batch({ rows: [
      row1,
      { record_id: 2, user_id: user, type: 'checkout', occurred_at: hoursAgo(4) },
      { record_id: 3, user_id: 999_999, type: 'checkin', occurred_at: hoursAgo(3) },
      { record_id: 4, user_id: user, type: 'sideways', occurred_at: hoursAgo(3) },
    ] }));
    const waiting = await syncUntilReady(dev, batch());

    const res = await get(`/api/devices/${dev.identity.id}/sessions`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((s: { id: string }) => s.id)).toEqual([waiting.sessionId, second.sessionId, first.sessionId]);
    const [ready, acked] = res.body.items;
    expect(ready).toMatchObject({ channel: 'synchro', state: 'ready', outcome: 'imported', acknowledged_at: null, rejection_count: 0 });
    expect(acked).toMatchObject({
      channel: 'synchro', state: 'acknowledged', outcome: 'imported', rejection_count: 2,
      counts: { received: 4, accepted: 1, duplicates: 1, rejected: 2 },
      files: { 'attendances.csv': { received: 4, accepted: 1, duplicates: 1, rejected: 2, high_water_mark: 2 } },
    });
    expect(Date.parse(acked.received_at)).toBeLessThanOrEqual(Date.parse(acked.processed_at));
    expect(Date.parse(acked.processed_at)).toBeLessThanOrEqual(Date.parse(acked.acknowledged_at));

    const page1 = await get(`/api/devices/${dev.identity.id}/sessions?limit=2`);
    const page2 = await get(`/api/devices/${dev.identity.id}/sessions?limit=2&cursor=${encodeURIComponent(page1.body.next_cursor)}`);
    expect([...page1.body.items, ...page2.body.items].map((s: { id: string }) => s.id)).toEqual(res.body.items.map((s: { id: string }) => s.id));
    expect(page2.body.next_cursor).toBeNull();
    expect((await get(`/api/devices/${dev.identity.id}/sessions?channel=sondes`)).body.items).toEqual([]);
  });

  test('one session: its rejections, the flags its package carried, and the package itself', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const flag = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
    const cycle = await syncUntilReady(dev, batch({ rows: [
      { record_id: 7, user_id: w.users[1].id, type: 'checkin', occurred_at: hoursAgo(2), temperature: '50.0' },
      { record_id: 8, user_id: w.users[1].id, type: 'checkin', occurred_at: hoursAgo(1) },
    ] }));
    const shown = await get(`/api/sessions/${cycle.sessionId}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      id: cycle.sessionId, device_id: dev.identity.id, state: 'ready', rejection_count: 1, rejections_truncated: false,
      rejections: [{ file: 'attendances.csv', line: 2, record_id: '7', code: 'temperature_out_of_range' }],
      flags: [{ id: flag.body.id, name: 'REBOOT', applied_at: null }],
      package_url: `/api/sessions/${cycle.sessionId}/package`,
    });

    const served = await dev.instructions();
    const download = await get(shown.body.package_url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toContain('application/zip');
    expect(Buffer.compare(download.body, served.body)).toBe(0);
    expect(download.headers.get('etag')).toBe(`"${createHash('sha256').update(download.body).digest('hex')}"`);
    expect(shown.body.package_sha256).toBe(createHash('sha256').update(download.body).digest('hex'));

    const rejections = await get(`/api/sessions/${cycle.sessionId}/rejections?limit=1`);
    expect(rejections.body).toMatchObject({ items: [{ line: 2, code: 'temperature_out_of_range' }], next_cursor: null });

    await dev.ack(cycle.sessionId);
    const after = await get(`/api/sessions/${cycle.sessionId}`);
    expect(after.body.state).toBe('acknowledged');
    expect(after.body.flags[0].applied_at).toBe(after.body.acknowledged_at);
  });

  test('sessions are in scope of the device: other schools and unknown ids are 404', async () => {
    const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
    const { sessionId } = await fullSync(dev, batch());
    const own = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', w.school.id));
    const stranger = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', (await aSchool(suite.db)).id));
    expect((await get(`/api/sessions/${sessionId}`, own)).status).toBe(200);
    expect((await get(`/api/sessions/${sessionId}/package`, own)).status).toBe(200);
    for (const path of [`/api/sessions/${sessionId}`, `/api/sessions/${sessionId}/package`, `/api/sessions/${sessionId}/rejections`, `/api/devices/${dev.identity.id}/sessions`]) {
      expect((await get(path, stranger)).status).toBe(404);
    }
    expect((await get('/api/sessions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});

describe('device health', () => {
  test('last seen, last successful sync, status per channel, clock skew, firmware and pending flags', async () => {
    const school = await aSchool(suite.db);
    const dev = await aSyncingDevice(suite.url, suite.db, school.id);
    const before = await get(`/api/devices/${dev.identity.id}`);
    expect(before.body).toMatchObject({ channels: {}, pending_flags: [], last_seen_at: null, last_successful_sync_at: null, needs_attention: false, firmware: null });

    const { sessionId } = await fullSync(dev, batch({ clock: new Date(Date.now() + 120_000) }));
    await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
    await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RELOAD_ROSTER' });
    const session = (await get(`/api/sessions/${sessionId}`)).body;

    const listed = (await get(`/api/devices?school_id=${school.id}`)).body.items;
    expect(listed).toHaveLength(1);
    const health = listed[0];
    expect(health).toMatchObject({
      id: dev.identity.id, firmware: '2.4.1', pending_flags: ['REBOOT', 'RELOAD_ROSTER'], needs_attention: false,
      last_successful_sync_at: session.acknowledged_at,
      channels: { synchro: { status: 0, session_id: sessionId, last_acknowledged_at: session.acknowledged_at, ack_overdue: false } },
    });
    expect(health.clock_skew_seconds).toBeGreaterThanOrEqual(115);
    expect(health.clock_skew_seconds).toBeLessThanOrEqual(125);
    expect(Date.parse(health.last_seen_at)).toBeGreaterThan(Date.now() - 60_000);
    expect((await get(`/api/devices/${dev.identity.id}`)).body).toMatchObject({ pending_flags: ['REBOOT', 'RELOAD_ROSTER'], channels: { synchro: { status: 0 } } });
  });

  test('attention=true lists the devices whose package has waited unacknowledged longer than the configured time', async () => {
    const school = await aSchool(suite.db);
    const overdue = await aSyncingDevice(suite.url, suite.db, school.id);
    const fresh = await aSyncingDevice(suite.url, suite.db, school.id);
    const fine = await aSyncingDevice(suite.url, suite.db, school.id);
    await syncUntilReady(overdue, batch());
    await syncUntilReady(fresh, batch());
    await fullSync(fine, batch());
    // The overdue device's package has been waiting since before the configured time.
    await suite.db.updateTable('sync_states').set({ changed_at: new Date(Date.now() - (ACK_STUCK_AFTER_SECONDS + 30) * 1000) })
      .where('device_id', '=', overdue.identity.id).execute();

    const attention = await get(`/api/devices?school_id=${school.id}&attention=true`);
    expect(attention.body.items.map((d: { id: string }) => d.id)).toEqual([overdue.identity.id]);
    expect(attention.body.items[0]).toMatchObject({ needs_attention: true, channels: { synchro: { status: 2, ack_overdue: true } } });
    const all = (await get(`/api/devices?school_id=${school.id}`)).body.items;
    expect(all).toHaveLength(3);
    expect(all.filter((d: { needs_attention: boolean }) => d.needs_attention).map((d: { id: string }) => d.id)).toEqual([overdue.identity.id]);

    // Acknowledging clears it; a school admin of another school never sees it.
    const stranger = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', w.school.id));
    expect((await get(`/api/devices?attention=true`, stranger)).body.items.map((d: { id: string }) => d.id)).not.toContain(overdue.identity.id);
    const { session_id } = (await overdue.status()).body;
    await overdue.ack(session_id);
    expect((await get(`/api/devices?school_id=${school.id}&attention=true`)).body.items).toEqual([]);
  });
});

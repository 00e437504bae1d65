// Each special sync flag (docs/protocol/v4.md §6) through a whole sync driven over HTTP: staff set it,
// the manifest or the package reflects it, the package carries it as <flag>, and it is applied
// when that package is acknowledged (in the acknowledgement's transaction).
import { beforeAll, expect, test } from '@jest/globals';
import { http } from '../support/http.js';
import { aFlagWorld, aSyncingDevice, batch, flagNames, flagOf, fullSync, setFlag, syncUntilReady, type FlagWorld } from './support.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });
let w: FlagWorld;

beforeAll(async () => {
  w = await aFlagWorld(suite.url, suite.db);
});

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
/** The `<settings>` element of instructions.xml as name → value (order is not meaningful). */
function settingsOf(xml: string): Record<string, string> | null {
  const block = /<settings>(.*?)<\/settings>/s.exec(xml);
  if (!block) return null;
  return Object.fromEntries([...block[1].matchAll(/<([a-z][a-z0-9_]*)>([^<]*)<\/\1>/g)].map((m) => [m[1], m[2]]));
}
const session = async (id: string) => (await http(suite.url, 'GET', `/api/sessions/${id}`, { token: w.backoffice.token })).body;

test('FULL_RESYNC: high-water marks read 0 until the package carrying the flag is acknowledged', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const rows = [1, 2, 3].map((i) => ({ record_id: i, user_id: w.users[0].id, type: i % 2 ? 'checkin' : 'checkout', occurred_at: hoursAgo(10 - i) }));
  await fullSync(dev, batch({ rows }));
  expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 3 });

  const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'FULL_RESYNC' });
  expect(set.status).toBe(201);
  expect(set.body).toMatchObject({ name: 'FULL_RESYNC', state: 'pending', params: {}, set_by: w.backoffice.id, replaced: false, delivered_in: null });

  const cycle = await syncUntilReady(dev, batch({ rows }));
  expect(cycle.manifest.body.high_water_marks).toEqual({ 'attendances.csv': 0 });
  expect(cycle.pkg.all('import')[0]).toMatchObject({ received: '3', accepted: '0', duplicates: '3', high_water_mark: '3' });
  expect(cycle.pkg.all('flag')).toEqual([{ id: String(set.body.id), name: 'FULL_RESYNC' }]);
  expect(await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id)).toMatchObject({ state: 'delivered', delivered_in: cycle.sessionId, applied_at: null });

  expect((await dev.ack(cycle.sessionId)).status).toBe(200);
  const applied = await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id);
  expect(applied.state).toBe('applied');
  // Applied in the acknowledgement's own transaction: the same now().
  expect(applied.applied_at).toBe((await session(cycle.sessionId)).acknowledged_at);
  expect((await dev.manifest()).body.high_water_marks).toEqual({ 'attendances.csv': 3 });
  expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual([]);
});

test('RELOAD_ROSTER: the next package carries the full roster once', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const first = await fullSync(dev, batch());
  const version = Number(first.pkg.all('roster')[0].version);
  const unchanged = await fullSync(dev, batch({ rosterVersion: version }));
  // The version is the cluster's transaction horizon: a long transaction elsewhere may make the
  // next package repeat recent users as a delta, never the full roster.
  expect(unchanged.pkg.all('roster').filter((r) => r.mode === 'full')).toEqual([]);

  const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RELOAD_ROSTER' });
  expect(set.status).toBe(201);
  const reload = await fullSync(dev, batch({ rosterVersion: version }));
  expect(reload.pkg.all('roster')[0]).toMatchObject({ mode: 'full', file: 'roster.csv' });
  const lines = reload.pkg.files['roster.csv'].trim().split(/\r?\n/);
  expect(lines.slice(1).map((l) => Number(l.split(',')[0])).sort((a, b) => a - b)).toEqual(w.users.map((u) => u.id).sort((a, b) => a - b));
  expect(reload.pkg.all('flag')).toEqual([{ id: String(set.body.id), name: 'RELOAD_ROSTER' }]);
  expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id)).state).toBe('applied');

  const after = await fullSync(dev, batch({ rosterVersion: Number(reload.pkg.all('roster')[0].version) }));
  expect(after.pkg.all('roster').filter((r) => r.mode === 'full')).toEqual([]);
  expect(flagNames(after.pkg)).toEqual([]);
});

test('REPORT_SETTINGS: settings.xml becomes required; what the device reports is shown on the device', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  expect((await dev.manifest()).body.files).toEqual([{ name: 'device.xml', required: true }]);
  const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REPORT_SETTINGS' });
  expect(set.status).toBe(201);
  expect((await dev.manifest()).body.files).toEqual([{ name: 'device.xml', required: true }, { name: 'settings.xml', required: true }]);

  const without = await dev.upload(batch());
  expect(without.status).toBe(400);
  expect(without.body.code).toBe('required_file_missing');

  const cycle = await fullSync(dev, batch({ settings: '<settings><sync_interval_seconds>300</sync_interval_seconds><volume>7</volume></settings>' }));
  expect(cycle.pkg.all('flag')).toEqual([{ id: String(set.body.id), name: 'REPORT_SETTINGS' }]);
  expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id)).state).toBe('applied');
  const shown = await http(suite.url, 'GET', `/api/devices/${dev.identity.id}`, { token: w.backoffice.token });
  expect(shown.body.reported_settings).toEqual({ sync_interval_seconds: '300', volume: '7' });
  expect((await dev.manifest()).body.files).toEqual([{ name: 'device.xml', required: true }]);
});

test('SET_SETTINGS: the next package carries the settings, once', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const set = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'SET_SETTINGS', params: { sync_interval_seconds: 120, beep: 'off', night_mode: true } });
  expect(set.status).toBe(201);
  expect(set.body.params).toEqual({ sync_interval_seconds: '120', beep: 'off', night_mode: 'true' });

  const cycle = await fullSync(dev, batch());
  expect(settingsOf(cycle.pkg.xml)).toEqual({ sync_interval_seconds: '120', beep: 'off', night_mode: 'true' });
  expect(flagNames(cycle.pkg)).toEqual(['SET_SETTINGS']);
  expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, set.body.id)).state).toBe('applied');
  expect(settingsOf((await fullSync(dev, batch())).pkg.xml)).toBeNull();
});

test('PURGE_CONFIRMED_LOGS and REBOOT are delivered as instructions in one package and applied together', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const purge = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'PURGE_CONFIRMED_LOGS' });
  const reboot = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
  expect([purge.status, reboot.status]).toEqual([201, 201]);

  const cycle = await syncUntilReady(dev, batch());
  expect(cycle.pkg.all('flag')).toEqual([{ id: String(purge.body.id), name: 'PURGE_CONFIRMED_LOGS' }, { id: String(reboot.body.id), name: 'REBOOT' }]);
  expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, reboot.body.id)).state).toBe('delivered');
  await dev.ack(cycle.sessionId);
  for (const id of [purge.body.id, reboot.body.id]) expect((await flagOf(suite.url, w.backoffice.token, dev.identity.id, id)).state).toBe('applied');
  expect(flagNames((await fullSync(dev, batch())).pkg)).toEqual([]);
});

test('RESET_SESSION closes a package left unacknowledged at once; the flags it carried are delivered again', async () => {
  const dev = await aSyncingDevice(suite.url, suite.db, w.school.id);
  const reboot = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'REBOOT' });
  const stuck = await syncUntilReady(dev, batch());
  expect(flagNames(stuck.pkg)).toEqual(['REBOOT']);

  const reset = await setFlag(suite.url, w.backoffice.token, dev.identity.id, { name: 'RESET_SESSION' });
  expect(reset.status).toBe(201);
  expect(reset.body).toMatchObject({ name: 'RESET_SESSION', state: 'applied', delivered_in: null });
  expect(reset.body.applied_at).not.toBeNull();
  expect((await dev.status()).body).toMatchObject({ status: 0 });
  expect((await session(stuck.sessionId)).state).toBe('closed');
  expect((await dev.ack(stuck.sessionId)).body.code).toBe('session_mismatch');
  expect(await flagOf(suite.url, w.backoffice.token, dev.identity.id, reboot.body.id)).toMatchObject({ state: 'pending', delivered_in: null });

  const again = await fullSync(dev, batch());
  expect(flagNames(again.pkg)).toEqual(['REBOOT']);
  const applied = await flagOf(suite.url, w.backoffice.token, dev.identity.id, reboot.body.id);
  expect(applied.state).toBe('applied');
  expect(applied.events.map((e: { action: string }) => e.action)).toEqual(['set', 'delivered', 'requeued', 'delivered', 'applied']);

  const resetFlag = await flagOf(suite.url, w.backoffice.token, dev.identity.id, reset.body.id);
  expect(resetFlag.events.map((e: { action: string; staff_id: number }) => [e.action, e.staff_id])).toEqual([['set', w.backoffice.id], ['applied', w.backoffice.id]]);
  expect(resetFlag.events[1].details.closed_sessions).toEqual([{ channel: 'synchro', status: 2, session_id: stuck.sessionId }]);
  // Acted at once: nothing left to cancel, and nothing ever rides on a package.
  expect((await http(suite.url, 'DELETE', `/api/devices/${dev.identity.id}/flags/${reset.body.id}`, { token: w.backoffice.token })).status).toBe(409);
  expect(flagNames(again.pkg)).not.toContain('RESET_SESSION');
});

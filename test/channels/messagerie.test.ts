// The messagerie channel (docs/protocol/v4.md §7): office messages delivered exactly once per device,
// counted as delivered only when acknowledged, never after they expire; fever alerts of the
// school once per device; messages from devices listed for the school's admins; and scope.
import { describe, expect, test } from '@jest/globals';
import { batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { messagesCsv, minutesAgo, readingsCsv } from './helpers.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });

const sync = (dev: TestDevice, files: Record<string, string> = {}) => dev.sync(batchZip({ 'device.xml': deviceXml(), ...files }));
const messageTexts = (pkg: { xml: string }) => [...pkg.xml.matchAll(/<message [^>]*>([^<]*)<\/message>/g)].map((m) => m[1]);

async function aSchoolWithDevices(n: number) {
  const school = await aSchool(suite.db, { fever_threshold: 37.5 });
  const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  const devices = await Promise.all(Array.from({ length: n }, async () => new TestDevice(suite.url, await aDevice(suite.db, school.id), 'messagerie').signIn()));
  return { school, admin, devices };
}
const post = (token: string, body: unknown) => http(suite.url, 'POST', '/api/messages', { token, body });

describe('office → devices', () => {
  test('a school message reaches every device of the school exactly once; a device message only its device', async () => {
    const { school, admin, devices: [a, b] } = await aSchoolWithDevices(2);
    const toSchool = await post(admin, { school_id: school.id, body: 'Fire drill at 10:00', priority: 'high' });
    expect(toSchool.status).toBe(201);
    expect(toSchool.body).toMatchObject({ school_id: school.id, device_id: null, priority: 'high', delivered_count: 0 });
    expect((await post(admin, { device_id: a.identity.id, body: 'Gate A closes early' })).body.priority).toBe('normal');

    const first = await sync(a);
    expect(messageTexts(first.pkg)).toEqual(['Fire drill at 10:00', 'Gate A closes early']);
    expect(first.pkg.all('message')[0]).toMatchObject({ id: String(toSchool.body.id), priority: 'high', created_at: expect.any(String) });
    expect(first.pkg.all('message')[0].expires_at).toBeUndefined();
    expect(messageTexts((await sync(a)).pkg)).toEqual([]); // acknowledged: never again
    expect(messageTexts((await sync(b)).pkg)).toEqual(['Fire drill at 10:00']);
    expect(messageTexts((await sync(b)).pkg)).toEqual([]);

    const listed = await http(suite.url, 'GET', '/api/messages', { token: admin });
    expect(listed.body.items.map((m: Record<string, unknown>) => [m.body, m.delivered_count])).toEqual([['Gate A closes early', 1], ['Fire drill at 10:00', 2]]);
    const rows = await suite.db.selectFrom('message_deliveries').select(['message_id', 'device_id']).where('message_id', '=', toSchool.body.id).execute();
    expect(rows).toHaveLength(2);
  });

  test('delivered only when the package is acknowledged: fetched twice without ack it is one delivery; a message sent meanwhile waits for the next package', async () => {
    const { admin, devices: [a] } = await aSchoolWithDevices(1);
    await post(admin, { device_id: a.identity.id, body: 'one' });
    const up = await a.upload(batchZip({ 'device.xml': deviceXml() }));
    await a.waitForStatus(2);
    await post(admin, { device_id: a.identity.id, body: 'two' }); // the package is already built
    const once = readPackage((await a.instructions()).body);
    const again = readPackage((await a.instructions()).body);
    expect(messageTexts(once)).toEqual(['one']);
    expect(messageTexts(again)).toEqual(['one']);
    expect(await suite.db.selectFrom('message_deliveries').select('message_id').where('device_id', '=', a.identity.id).execute()).toEqual([]);
    expect((await a.ack(up.body.session_id)).status).toBe(200);
    expect((await a.ack(up.body.session_id)).status).toBe(200); // a repeated ack delivers nothing more
    expect(await suite.db.selectFrom('message_deliveries').select('message_id').where('device_id', '=', a.identity.id).execute()).toHaveLength(1);
    expect(messageTexts((await sync(a)).pkg)).toEqual(['two']);
  });

  test('an expired message is never delivered; one expiring later carries its expiry', async () => {
    const { school, admin, devices: [a] } = await aSchoolWithDevices(1);
    const staff = await suite.db.selectFrom('staff').select('id').where('school_id', '=', school.id).executeTakeFirstOrThrow();
    await suite.db.insertInto('messages').values({ school_id: school.id, device_id: null, body: 'stale', expires_at: new Date(Date.now() - 1000), created_by: staff.id }).execute();
    const later = new Date(Date.now() + 86_400_000).toISOString();
    await post(admin, { school_id: school.id, body: 'fresh', expires_at: later });
    const { pkg } = await sync(a);
    expect(messageTexts(pkg)).toEqual(['fresh']);
    expect(Date.parse(pkg.all('message')[0].expires_at)).toBe(Date.parse(later));
  });

  test('validation: exactly one target, a body of 1–1,000 characters, a priority, an expiry in the future', async () => {
    const { school, admin, devices: [a] } = await aSchoolWithDevices(1);
    const refused = [
      { body: 'no target' },
      { school_id: school.id, device_id: a.identity.id, body: 'two targets' },
      { school_id: school.id, body: '' },
      { school_id: school.id, body: 'x'.repeat(1001) },
      { school_id: school.id, body: 'hi', priority: 'urgent' },
      { school_id: school.id, body: 'hi', expires_at: new Date(Date.now() - 60_000).toISOString() },
    ];
    for (const body of refused) expect({ body, status: (await post(admin, body)).status }).toEqual({ body, status: 422 });
    expect((await post(admin, { school_id: school.id, body: 'x'.repeat(1000) })).status).toBe(201);
  });

  test('scope: a school admin cannot write to another school or its devices (404), backoffice can', async () => {
    const mine = await aSchoolWithDevices(1);
    const theirs = await aSchoolWithDevices(1);
    expect((await post(mine.admin, { school_id: theirs.school.id, body: 'hello' })).status).toBe(404);
    expect((await post(mine.admin, { device_id: theirs.devices[0].identity.id, body: 'hello' })).status).toBe(404);
    expect((await post(mine.admin, { device_id: '00000000-0000-4000-8000-000000000000', body: 'hello' })).status).toBe(404);
    const backoffice = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
    expect((await post(backoffice, { device_id: theirs.devices[0].identity.id, body: 'from the office' })).status).toBe(201);
    // Nothing of it leaked into the other school's list or package.
    expect((await http(suite.url, 'GET', '/api/messages', { token: mine.admin })).body.items).toEqual([]);
    expect(messageTexts((await sync(mine.devices[0])).pkg)).toEqual([]);
    expect(messageTexts((await sync(theirs.devices[0])).pkg)).toEqual(['from the office']);
  });
});

describe('fever alerts down messagerie', () => {
  test("the school's fever readings reach each messagerie device once", async () => {
    const { devices: [a, b] } = await aSchoolWithDevices(2);
    const probe = new TestDevice(suite.url, a.identity, 'sondes');
    probe.token = a.token;
    await probe.sync(batchZip({ 'device.xml': deviceXml(), 'readings.csv': readingsCsv([{ record_id: 1, measured_at: minutesAgo(1), temperature: '38.9' }]) }));
    for (const dev of [a, b]) {
      expect((await sync(dev)).pkg.all('alert')).toEqual([{ kind: 'fever', record_id: '1', temperature: '38.9', measured_at: expect.any(String) }]);
      expect((await sync(dev)).pkg.all('alert')).toEqual([]);
    }
  });
});

describe('devices → office', () => {
  test('messages.csv is imported with its row codes; the admins of that school list them, incidents on their own', async () => {
    const { school, admin, devices: [a] } = await aSchoolWithDevices(1);
    const csv = messagesCsv([
      { record_id: 1, created_at: minutesAgo(5), kind: 'info', body: 'Paper low' },
      { record_id: 2, created_at: minutesAgo(4), kind: 'incident', body: 'Door forced,\n"see camera"' },
      { record_id: 3, created_at: minutesAgo(3), kind: 'alarm', body: 'bad kind' },
      { record_id: 4, created_at: minutesAgo(3), kind: 'info', body: 'x'.repeat(1001) },
      { record_id: 5, created_at: 'soon', kind: 'info', body: 'bad time' },
    ]);
    const { pkg } = await sync(a, { 'messages.csv': csv });
    expect(pkg.all('import')).toEqual([{ file: 'messages.csv', received: '5', accepted: '2', duplicates: '0', rejected: '3', high_water_mark: '2' }]);
    expect(pkg.all('rejection').map((r) => [r.record_id, r.code])).toEqual([['3', 'invalid_type'], ['4', 'malformed_row'], ['5', 'invalid_timestamp']]);
    // Same rows again: duplicates; the same id with another body: a conflict, the first kept.
    const again = await sync(a, { 'messages.csv': messagesCsv([
      { record_id: 1, created_at: csvTime(csv, 1), kind: 'info', body: 'Paper low' },
      { record_id: 2, created_at: csvTime(csv, 2), kind: 'incident', body: 'changed' },
    ]) });
    expect(again.pkg.all('import')[0]).toMatchObject({ received: '2', accepted: '0', duplicates: '1', rejected: '1' });

    const incidents = await http(suite.url, 'GET', `/api/messages?direction=from_devices&kind=incident`, { token: admin });
    expect(incidents.body.items.map((m: Record<string, unknown>) => [m.kind, m.body, m.device_id, m.school_id])).toEqual([['incident', 'Door forced,\n"see camera"', a.identity.id, school.id]]);
    const all = await http(suite.url, 'GET', `/api/messages?direction=from_devices&limit=1`, { token: admin });
    expect(all.body.items).toHaveLength(1);
    const next = await http(suite.url, 'GET', `/api/messages?direction=from_devices&limit=1&cursor=${all.body.next_cursor}`, { token: admin });
    expect([all.body.items[0].body, next.body.items[0].body]).toEqual(['Door forced,\n"see camera"', 'Paper low']);

    const stranger = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', (await aSchool(suite.db)).id));
    expect((await http(suite.url, 'GET', '/api/messages?direction=from_devices', { token: stranger })).body.items).toEqual([]);
    expect((await http(suite.url, 'GET', `/api/messages?direction=from_devices&school_id=${school.id}`, { token: stranger })).body.items).toEqual([]);
  });
});

/** The created_at written on line `recordId` of a messagesCsv. */
function csvTime(csv: string, recordId: number): string {
  return csv.split('\n').find((l) => l.startsWith(`${recordId},`))!.split(',')[1];
}

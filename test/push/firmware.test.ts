// What real firmware sends (issue #27, docs/protocol/push.md §3–§5), against the real api and worker over HTTP:
// every line a terminal is answered `OK` for is in the database and in the figures (a terminal
// deletes what it was answered `OK` for), the Security PUSH 3.x registration and rtlog events,
// clock skew from real-time punches only, command results as the vendor writes them, and the
// TimeZone option in the vendor's encoding.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { handshakeOptions, parseCommands, PushTerminal } from '../../simulator/push-client.js';
import { pushTimeZone } from '../../shared/protocol/push.js';
import { terminalTime } from '../../simulator/push-fleet.js';
import { EVERY_DAY, schoolClock } from '../support/clock.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';
import { importedSessions, nextSn as nextSnOf, registeredTerminal } from './support.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
const nextSn = () => nextSnOf('FW');

beforeAll(async () => {
  stack = await startStack({ worker: true, env: { PUSH_ROSTER_SECONDS: '1' } });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

const registered = (schoolId: number, extra: Record<string, unknown> = {}) => registeredTerminal(stack.url, staff, schoolId, { sn: nextSn(), extra });

/** Every PUSH session of the device imported; answers their stats (by file). */
const imported = (deviceId: string, sessions: number) => importedSessions(db.db, deviceId, sessions);

async function punchesOf(deviceId: string) {
  return db.db.selectFrom('attendances').select(['user_id', 'type', 'pin', 'verify', 'temperature', sql<string>`to_char(local_time, 'YYYY-MM-DD HH24:MI:SS')`.as('local')])
    .where('device_id', '=', deviceId).orderBy('user_id').orderBy('local_time').execute();
}

async function secondsOn(userId: number, date: string) {
  const day = await db.db.selectFrom('user_days').select('seconds').where('user_id', '=', userId).where('date', '=', date).executeTakeFirst();
  return day?.seconds ?? null;
}

async function presentOn(schoolId: number, date: string) {
  const res = await http(stack.url, 'GET', `/api/attendances/aggregate/school/${schoolId}?period=day&from=${date}&to=${date}`, { token: staff });
  expect(res.status).toBe(200);
  return res.body.buckets[0].present as number;
}

const enrolled = { enrolled_on: '2026-10-01' };

describe('never OK and then drop', () => {
  test('ATTLOG lines of 2, 4, 13 and 20 fields, and keyed lines, are punches in the database and in the figures', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const [a, b, c] = [await aUser(db.db, school.id, { badge: '1001', ...enrolled }), await aUser(db.db, school.id, { badge: '1002', ...enrolled }), await aUser(db.db, school.id, { badge: '1003', ...enrolled })];
    const { terminal, deviceId } = await registered(school.id);
    const lines = [
      '1001\t2026-12-04 08:00:00', // PIN and time only
      '1001\t2026-12-04 16:00:00\t1\t15', // PIN, time, status, verify
      `1002\t2026-12-04 08:00:00\t0\t1${'\t0'.repeat(11)}`, // 15 fields
      `1002\t2026-12-04 16:00:00\t1\t1\t0${'\tx'.repeat(15)}`, // 20 fields
      'PIN=1003\tDateTime=2026-12-04 08:00:00\tStatus=0\tVerify=15', // keyed form
      'PIN=1003\tDateTime=2026-12-04 16:00:00\tStatus=1\tVerify=15',
    ];
    const res = await terminal.upload('ATTLOG', `${lines.join('\r\n')}\r\n`);
    expect([res.status, res.body]).toEqual([200, 'OK: 6']);
    const [stats] = await imported(deviceId, 1);
    expect(stats.ATTLOG).toMatchObject({ received: 6, accepted: 6, duplicates: 0, rejected: 0 });
    expect((await punchesOf(deviceId)).map((p) => [p.user_id, p.local, p.type, p.verify])).toEqual([
      [a.id, '2026-12-04 08:00:00', 'checkin', null], [a.id, '2026-12-04 16:00:00', 'checkout', 15],
      [b.id, '2026-12-04 08:00:00', 'checkin', 1], [b.id, '2026-12-04 16:00:00', 'checkout', 1],
      [c.id, '2026-12-04 08:00:00', 'checkin', 15], [c.id, '2026-12-04 16:00:00', 'checkout', 15],
    ]);
    for (const u of [a, b, c]) expect(await secondsOn(u.id, '2026-12-04')).toBe(8 * 3600);
    expect(await presentOn(school.id, '2026-12-04')).toBe(3);
  });

  test('a table the server does not import is kept with the terminal and shown to staff; tabledata is acknowledged as <tablename>=<count>', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const state = 'time=2026-12-04 08:00:00\tsensor=01\trelay=00\talarm=0000000000000000\tdoor=01\n';
    expect((await terminal.upload('rtstate', state)).body).toBe('OK');
    expect((await terminal.upload('rtstate', state)).body).toBe('OK'); // the same bytes after a lost answer: kept once
    const users = 'user uid=1\tcardno=\tpin=1\tpassword=\tgroup=1\tname=Ana\tprivilege=0\nuser uid=2\tcardno=\tpin=2\tname=Ben\tprivilege=0\n';
    const tabledata = await fetch(`${stack.url}/iclock/cdata?SN=${terminal.sn}&table=tabledata&tablename=user&count=2`, { method: 'POST', body: users });
    expect([tabledata.status, await tabledata.text()]).toEqual([200, 'user=2']);
    expect((await terminal.upload('FINGERTMP', 'FP PIN=1\tFID=0\tTMP=AAAA\n')).body).toBe('OK');
    expect((await terminal.upload('ATTPHOTO', 'PIN=1\tSN=x\tsize=3\tCMD=uploadphoto\u0000\u0001\u0002')).body).toBe('OK');

    const listed = await http(stack.url, 'GET', `/api/devices/${deviceId}/push/uploads`, { token: staff });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((u: { table: string; text: string; bytes: number }) => [u.table, u.text, u.bytes])).toEqual([
      ['FINGERTMP', 'FP PIN=1\tFID=0\tTMP=AAAA\n', 24],
      ['tabledata:user', users, Buffer.byteLength(users)],
      ['rtstate', state, Buffer.byteLength(state)],
    ]);
  });

  test('Security PUSH 3.x: registration with its RegistryCode once approved, rtlog punches in the database, the figures and the fever alerts', async () => {
    const school = await aSchool(db.db, { timezone: 'Asia/Kolkata' });
    const [a, b] = [await aUser(db.db, school.id, { badge: '1003', ...enrolled }), await aUser(db.db, school.id, { badge: '1004', ...enrolled })];
    const sn = nextSn();
    const terminal = new PushTerminal(stack.url, sn);
    const params = { DeviceType: 'acc', '~DeviceName': 'SpeedFace-V5L', FirmVer: 'ZAM180-Ver1.1.17', PushVersion: '3.1.2', LockCount: '1' };

    // Unknown: the handshake's OK is its cue to register; registering while pending is refused (it keeps its events).
    expect((await terminal.handshake3()).body).toBe('OK');
    const pendingRegistry = await terminal.registry(params);
    expect([pendingRegistry.status, pendingRegistry.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    const refused = await terminal.rtlog([{ time: '2026-12-04 08:00:00', pin: '1003', inout: 0 }]);
    expect([refused.status, refused.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    const pending = await http(stack.url, 'GET', '/api/push/pending', { token: staff });
    expect(pending.body.items.find((p: { serial_number: string }) => p.serial_number === sn)).toMatchObject({ model: 'SpeedFace-V5L', firmware: 'ZAM180-Ver1.1.17', push_version: '3.1.2' });

    const approved = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Face gate' } });
    expect(approved.status).toBe(201);
    const deviceId = approved.body.id as string;
    const registry = await terminal.registry(params);
    expect(registry.status).toBe(200);
    const code = /^RegistryCode=([0-9a-f]{32})$/.exec(registry.body)?.[1];
    expect(code).toBeDefined();
    const hello = await terminal.handshake3();
    expect(hello.body.split('\n')[0]).toBe('registry=ok');
    expect(handshakeOptions(hello.body)).toMatchObject({ RegistryCode: code, Realtime: '1', RequestDelay: '10', TransTables: 'User Transaction', TimeZone: '330' });
    expect(handshakeOptions((await terminal.pushOptions()).body)).toMatchObject({ RequestDelay: '10', TimeZone: '330', PushProtVer: '3.1.2' });

    const sent = await terminal.rtlog([
      { time: '2026-12-04 08:00:00', pin: '1003', inout: 0, temperature: 36.5 },
      { time: '2026-12-04 08:00:05', pin: '0', event: 27 }, // an unregistered face: no user, no punch
      { time: '2026-12-04 08:01:00', pin: '1004', inout: 0, temperature: 38.2 }, // fever (threshold 37.5)
      { time: '2026-12-04 16:00:00', pin: '1003', inout: 1, temperature: 0 }, // 0: not measured
      { time: '2026-12-04 16:01:00', pin: '1004', inout: 1, temperature: 255 },
    ]);
    expect([sent.status, sent.body]).toEqual([200, 'OK']);
    const [stats] = await imported(deviceId, 1);
    expect(stats.rtlog).toMatchObject({ received: 4, accepted: 4, duplicates: 0, rejected: 0 });
    expect((await punchesOf(deviceId)).map((p) => [p.user_id, p.local, p.type, p.verify, p.temperature === null ? null : Number(p.temperature)])).toEqual([
      [a.id, '2026-12-04 08:00:00', 'checkin', 15, 36.5], [a.id, '2026-12-04 16:00:00', 'checkout', 15, null],
      [b.id, '2026-12-04 08:01:00', 'checkin', 15, 38.2], [b.id, '2026-12-04 16:01:00', 'checkout', 15, null],
    ]);
    expect(await secondsOn(a.id, '2026-12-04')).toBe(8 * 3600);
    expect(await secondsOn(b.id, '2026-12-04')).toBe(8 * 3600);
    expect(await presentOn(school.id, '2026-12-04')).toBe(2);
    const alerts = await http(stack.url, 'GET', `/api/alerts?school_id=${school.id}`, { token: staff });
    expect(alerts.body.items.map((f: { user_id: number; temperature: number; device_id: string; occurred_at: string }) => [f.user_id, f.temperature, f.device_id, f.occurred_at]))
      .toEqual([[b.id, 38.2, deviceId, '2026-12-04T02:31:00.000Z']]);

    // The same events again (a lost OK): one session, no second row, no second fever.
    expect((await terminal.rtlog([{ time: '2026-12-04 08:01:00', pin: '1004', inout: 0, temperature: 38.2 }])).body).toBe('OK');
    const [, again] = await imported(deviceId, 2);
    expect(again.rtlog).toMatchObject({ received: 1, accepted: 0, duplicates: 1 });
    expect((await http(stack.url, 'GET', `/api/alerts?school_id=${school.id}`, { token: staff })).body.items).toHaveLength(1);
  });
});

describe('clock skew from real-time punches only', () => {
  test('a punch stored during an outage, or one sent again, leaves the skew of the last real-time punch; both are in the figures', async () => {
    const clock = schoolClock();
    const school = await aSchool(db.db, { timezone: clock.timezone, school_days: EVERY_DAY });
    const user = await aUser(db.db, school.id, { badge: '77', enrolled_on: clock.day(-30) });
    const { terminal, deviceId } = await registered(school.id);
    const device = async () => (await http(stack.url, 'GET', `/api/devices/${deviceId}`, { token: staff })).body;
    const sessionSkews = async () => (await db.db.selectFrom('sync_sessions').select('clock_skew_seconds').where('device_id', '=', deviceId).orderBy('received_at').execute())
      .map((s) => s.clock_skew_seconds);
    const now = Math.floor(Date.now() / 1000) * 1000;
    // The terminal's clock is 40 s behind: its real-time punch says 40 s before it arrives.
    const live = terminalTime(new Date(now - 40_000), clock.timezone);
    expect((await terminal.punches([{ pin: '77', time: live }])).body).toBe('OK: 1');
    await imported(deviceId, 1);
    expect((await device()).clock_skew_seconds).toBeGreaterThanOrEqual(-45);
    expect((await device()).clock_skew_seconds).toBeLessThanOrEqual(-39);

    // Back from a 2-hour outage with the one punch it stored meanwhile: a backlog, not a clock 2 h off.
    const stored = terminalTime(new Date(now - 7_201_000), clock.timezone);
    expect((await terminal.punches([{ pin: '77', time: stored }])).body).toBe('OK: 1');
    // The real-time punch again (its OK was lost): a duplicate says nothing about the clock either.
    expect((await terminal.upload('ATTLOG', `77\t${live}\t255\t1\n`)).body).toBe('OK: 1');
    await imported(deviceId, 3);
    const [first, outage, resent] = await sessionSkews();
    expect([outage, resent]).toEqual([null, null]);
    const after = await device();
    expect(after.clock_skew_seconds).toBe(first);
    expect(after.attention_reasons).not.toContain('clock_off');

    // Both punches are in: paired (stored one opens, live one closes) and counted in the day.
    const rows = await punchesOf(deviceId);
    expect(rows.map((r) => [r.local, r.type])).toEqual([[stored, 'checkin'], [live, 'checkout']]);
    expect(await secondsOn(user.id, clock.today)).toBe(7_161);
  });
});

describe('command results as the vendor writes them', () => {
  test('one command ends without a newline; INFO keeps the settings that follow its result; a result over several lines needs its Return', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const queue = async (command: string) => (await http(stack.url, 'POST', `/api/devices/${deviceId}/commands`, { token: staff, body: { command } })).body.id as number;
    const nextPoll = () => waitFor(async () => {
      const body = (await terminal.poll()).body;
      return body === 'OK' ? undefined : body;
    }, 5000, 'commands at the poll');
    const history = async () => new Map(((await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items as Array<{ id: number }>).map((c) => [c.id, c]));

    // The first roster (no users: nothing) may come first; the INFO alone.
    const info = await queue('INFO');
    expect(await nextPoll()).toBe(`C:${info}:INFO`);
    const settings = ['~DeviceName=SpeedFace-V5L', 'MAC=00:17:61:12:34:56', 'UserCount=12', 'FPCount=3', 'FWVersion=Ver 6.60 Apr 2 2020', 'IPAddress=10.1.2.3'];
    expect((await terminal.results([`ID=${info}&Return=0&CMD=INFO`, ...settings])).body).toBe('OK');
    expect((await history()).get(info)).toMatchObject({ status: 'succeeded', return_code: 0, result_content: settings.join('\n') });
    const reported = (await http(stack.url, 'GET', `/api/devices/${deviceId}/push`, { token: staff })).body;
    expect(reported).toMatchObject({ model: 'SpeedFace-V5L', firmware: 'Ver 6.60 Apr 2 2020', options: { UserCount: '12', FPCount: '3', IPAddress: '10.1.2.3' } });

    // Two commands: one per line. Their results with ID=, Return= and CMD= on lines of their own.
    const [reboot, check] = [await queue('REBOOT'), await queue('CHECK')];
    expect(await nextPoll()).toBe(`C:${reboot}:REBOOT\nC:${check}:CHECK\n`);
    expect((await terminal.results([`ID=${reboot}`, 'Return=-1002', 'CMD=Shell', `ID=${check}`, 'SN=x', 'CMD=CHECK'])).body).toBe('OK');
    const done = await history();
    expect(done.get(reboot)).toMatchObject({ status: 'failed', return_code: -1002, failure: 'terminal answered -1002' });
    expect(done.get(check)).toMatchObject({ status: 'failed', return_code: null, failure: 'terminal answered without a Return code' });
  });
});

describe('TimeZone in the vendor encoding', () => {
  test('an integer: whole hours, or minutes when not whole hours, on both sides of a DST change', () => {
    expect(pushTimeZone('Asia/Kolkata', new Date('2026-12-04T00:00:00Z')).option).toBe(330);
    expect(pushTimeZone('Asia/Kathmandu', new Date('2026-12-04T00:00:00Z')).option).toBe(345);
    expect(pushTimeZone('America/St_Johns', new Date('2026-12-04T00:00:00Z')).option).toBe(-210);
    expect(pushTimeZone('America/St_Johns', new Date('2026-07-04T00:00:00Z')).option).toBe(-150);
    // Paris springs forward at 2027-03-28 01:00 UTC.
    expect(pushTimeZone('Europe/Paris', new Date('2027-03-28T00:59:59Z'))).toEqual({ minutes: 60, option: 1 });
    expect(pushTimeZone('Europe/Paris', new Date('2027-03-28T01:00:00Z'))).toEqual({ minutes: 120, option: 2 });
  });

  test('after a DST change the terminal is sent its new offset at its next poll, not at its next handshake', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const { terminal, deviceId, sn } = await registered(school.id);
    const now = pushTimeZone('Europe/Paris', new Date());
    expect(handshakeOptions((await terminal.handshake()).body).TimeZone).toBe(String(now.option));
    const sentOffset = async () => (await db.db.selectFrom('push_terminals').select('timezone_offset_sent').where('serial_number', '=', sn).executeTakeFirstOrThrow()).timezone_offset_sent;
    expect(await sentOffset()).toBe(now.minutes);
    // As if the handshake had been before the change: the offset it was given is the other one.
    await db.db.updateTable('push_terminals').set({ timezone_offset_sent: now.minutes === 60 ? 120 : 60 }).where('serial_number', '=', sn).execute();
    const commands = await waitFor(async () => {
      const polled = parseCommands((await terminal.poll()).body);
      return polled.length > 0 ? polled : undefined;
    }, 10_000, 'the new offset at a poll');
    expect(commands.map((c) => c.command)).toEqual([`SET OPTION TimeZone=${now.option}`, 'CHECK']);
    expect(await sentOffset()).toBe(now.minutes);
    const listed = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items;
    expect(listed.map((c: { source: string }) => c.source)).toEqual(['clock', 'clock']);
    // Sent once: nothing more is queued while the offset holds.
    await terminal.results(commands.map((c) => `ID=${c.id}&Return=0&CMD=${c.command.split(' ')[0]}`));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await terminal.poll()).body).toBe('OK');
  });
});

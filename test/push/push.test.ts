// PUSH (iclock) terminals against the real api and worker over HTTP (docs/protocol/push.md): enrolment,
// handshake, ATTLOG on the import pipeline, bad input, commands and their results.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { attlogBody, handshakeOptions, parseCommands, PushTerminal } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';
import { importedSessions, nextSn as nextSnOf, registeredTerminal } from './support.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
const nextSn = () => nextSnOf('PT');

beforeAll(async () => {
  stack = await startStack({ worker: true, env: { PUSH_COMMAND_ANSWER_SECONDS: '1', PUSH_COMMAND_MAX_SENDS: '2', PUSH_ROSTER_SECONDS: '1' } });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db.close();
  await stack.stop();
});

const registered = (schoolId: number, extra: Record<string, unknown> = {}) => registeredTerminal(stack.url, staff, schoolId, { extra });

/** Every PUSH session of the device imported; answers their stats. */
const imported = async (deviceId: string, sessions: number) => (await importedSessions(db.db, deviceId, sessions)).map((s) => s.ATTLOG);

async function punchesOf(deviceId: string) {
  return db.db.selectFrom('attendances').select(['user_id', 'school_id', 'type', 'type_inferred', 'pin', 'verify', sql<string>`to_char(local_time, 'YYYY-MM-DD HH24:MI:SS')`.as('local'), 'occurred_at'])
    .where('device_id', '=', deviceId).orderBy('occurred_at').execute();
}

describe('enrolment and handshake', () => {
  test('an unknown terminal is recorded as pending with its address, model and firmware, keeps its punches, and syncs once approved', async () => {
    const school = await aSchool(db.db, { timezone: 'Asia/Kolkata' });
    const user = await aUser(db.db, school.id, { badge: '101' });
    const sn = nextSn();
    const terminal = new PushTerminal(stack.url, sn);

    const hello = await terminal.handshake();
    expect(hello.status).toBe(200);
    expect(hello.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(hello.body.split('\n')[0]).toBe(`GET OPTION FROM: ${sn}`);
    expect((await terminal.upload('options', '~DeviceName=SpeedFace-V5L,FWVersion=Ver 6.60 Apr 2 2020,UserCount=12')).body).toBe('OK: 1');
    const refused = await terminal.punches([{ pin: '101', time: '2026-11-20 08:00:00', status: 0 }]);
    expect([refused.status, refused.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    expect(await db.db.selectFrom('sync_sessions').select('id').where('archive_sha256', 'is not', null).where('channel', '=', 'push')
      .where('device_id', 'in', db.db.selectFrom('devices').select('id').where('serial_number', '=', sn)).execute()).toEqual([]);

    const pending = await http(stack.url, 'GET', '/api/push/pending', { token: staff });
    expect(pending.body.items.find((p: { serial_number: string }) => p.serial_number === sn)).toMatchObject({
      serial_number: sn, address: '127.0.0.1', model: 'SpeedFace-V5L', firmware: 'Ver 6.60 Apr 2 2020', push_version: '2.4.1',
    });

    const approved = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Main gate' } });
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({ kind: 'terminal', protocol: 'push', serial_number: sn, firmware: 'Ver 6.60 Apr 2 2020' }); // reported while pending, kept
    expect((await http(stack.url, 'GET', '/api/push/pending', { token: staff })).body.items.map((p: { serial_number: string }) => p.serial_number)).not.toContain(sn);
    const again = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Twice' } });
    expect(again.status).toBe(409);
    // What it said while pending is its registered state's from the start.
    const state = await http(stack.url, 'GET', `/api/devices/${approved.body.id}/push`, { token: staff });
    expect(state.body).toMatchObject({ serial_number: sn, address: '127.0.0.1', model: 'SpeedFace-V5L', push_version: '2.4.1', options: { UserCount: '12' } });
    expect(new Date(state.body.first_seen_at).getTime()).toBeLessThan(new Date(approved.body.created_at).getTime());

    const options = handshakeOptions((await terminal.handshake()).body);
    expect(options).toMatchObject({ ATTLOGStamp: '0', OPERLOGStamp: '0', TimeZone: '330', Delay: '10', Realtime: '1', Encrypt: 'None' });
    const sent = await terminal.punches([{ pin: '101', time: '2026-11-20 08:00:00', status: 0 }], 9001);
    expect([sent.status, sent.body]).toEqual([200, 'OK: 1']);
    await imported(approved.body.id, 1);
    expect(handshakeOptions((await terminal.handshake()).body).ATTLOGStamp).toBe('9001');
    // 08:00 in Kolkata is 02:30 UTC.
    expect((await punchesOf(approved.body.id)).map((p) => [p.user_id, p.occurred_at.toISOString()])).toEqual([[user.id, '2026-11-20T02:30:00.000Z']]);
  });

  test('a disabled terminal and an address outside its allow-list are refused, nothing stored', async () => {
    const school = await aSchool(db.db);
    await aUser(db.db, school.id, { badge: '7' });
    const { terminal, deviceId } = await registered(school.id, { allowed_networks: ['10.0.0.0/8'] });
    const outside = await terminal.punches([{ pin: '7', time: '2026-11-20 08:00:00' }]);
    expect([outside.status, outside.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    const widened = await http(stack.url, 'PATCH', `/api/push/terminals/${deviceId}`, { token: staff, body: { allowed_networks: ['127.0.0.0/8'] } });
    expect(widened.status).toBe(200);
    expect((await terminal.punches([{ pin: '7', time: '2026-11-20 08:00:00' }])).body).toBe('OK: 1');
    await imported(deviceId, 1);

    expect((await http(stack.url, 'POST', `/api/devices/${deviceId}/disable`, { token: staff })).status).toBe(200);
    for (const answer of [await terminal.punches([{ pin: '7', time: '2026-11-20 09:00:00' }]), await terminal.handshake(), await terminal.poll()]) {
      expect([answer.status, answer.body]).toEqual([403, 'DEVICE DISABLED']);
    }
    expect(await db.db.selectFrom('sync_sessions').select('id').where('device_id', '=', deviceId).execute()).toHaveLength(1);
  });

  test('a bad or missing SN gets 400 BAD SN, a body over the limit 413', async () => {
    for (const sn of ['', 'has space', 'x'.repeat(65), 'semi;colon']) {
      const res = await fetch(`${stack.url}/iclock/cdata?SN=${encodeURIComponent(sn)}&options=all`);
      expect([res.status, await res.text()]).toEqual([400, 'BAD SN']);
    }
    expect((await fetch(`${stack.url}/iclock/getrequest`)).status).toBe(400);
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const big = await terminal.upload('ATTLOG', 'x'.repeat(5 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(await db.db.selectFrom('sync_sessions').select('id').where('device_id', '=', deviceId).execute()).toEqual([]);
  });
});

describe('ATTLOG on the import pipeline', () => {
  test('punches are stored once per (terminal, PIN, local time), paired when the terminal has no in/out, and counted in the user-days', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const alice = await aUser(db.db, school.id, { badge: '1' });
    const { terminal, deviceId } = await registered(school.id);
    const punches = [
      { pin: '1', time: '2026-11-20 08:00:00', verify: 15 },
      { pin: '1', time: '2026-11-20 12:00:00' },
      { pin: '1', time: '2026-11-20 13:00:00' },
      { pin: '1', time: '2026-11-20 17:00:00' },
    ];
    // CRLF and a form content type, as some firmware send.
    const body = attlogBody(punches, '\r\n');
    for (let i = 0; i < 5; i++) {
      const res = await terminal.upload('ATTLOG', body, { contentType: 'application/x-www-form-urlencoded' });
      expect([res.status, res.body]).toEqual([200, 'OK: 4']);
    }
    // The same bytes five times: one session (the retries found it), four rows.
    const [stats] = await imported(deviceId, 1);
    expect(stats).toMatchObject({ received: 4, accepted: 4, duplicates: 0, rejected: 0 });
    const rows = await punchesOf(deviceId);
    expect(rows.map((r) => [r.local, r.type, r.type_inferred])).toEqual([
      ['2026-11-20 08:00:00', 'checkin', true], ['2026-11-20 12:00:00', 'checkout', true],
      ['2026-11-20 13:00:00', 'checkin', true], ['2026-11-20 17:00:00', 'checkout', true],
    ]);
    expect(rows[0].verify).toBe(15);
    const [day] = await db.db.selectFrom('user_days').selectAll().where('user_id', '=', alice.id).execute();
    expect([day.date, day.seconds]).toEqual(['2026-11-20', 8 * 3600]);

    // A late punch in between, in another batch with one already held: pairing is redone.
    const late = await terminal.punches([{ pin: '1', time: '2026-11-20 10:00:00' }, { pin: '1', time: '2026-11-20 17:00:00' }]);
    expect(late.body).toBe('OK: 2');
    const [, second] = await imported(deviceId, 2);
    expect(second).toMatchObject({ received: 2, accepted: 1, duplicates: 1, rejected: 0 });
    expect((await punchesOf(deviceId)).map((r) => r.type)).toEqual(['checkin', 'checkout', 'checkin', 'checkout', 'checkin']);

    const sessions = await http(stack.url, 'GET', `/api/devices/${deviceId}/sessions`, { token: staff });
    expect(sessions.status).toBe(200);
    expect(sessions.body.items[0]).toMatchObject({ channel: 'push', outcome: 'imported', state: 'acknowledged' });
    const device = await http(stack.url, 'GET', `/api/devices/${deviceId}`, { token: staff });
    expect(device.body).toMatchObject({ protocol: 'push', needs_attention: false });
    expect(device.body.last_synced_at).not.toBeNull();
  });

  test('bad lines are refused with row codes staff see, the rest of the batch is kept; DST gap and overlap are read deterministically', async () => {
    const school = await aSchool(db.db, { timezone: 'Europe/Paris' });
    const bob = await aUser(db.db, school.id, { badge: 'B7' });
    const other = await aSchool(db.db);
    await aUser(db.db, other.id, { badge: 'X9' });
    const { terminal, deviceId } = await registered(school.id);
    const lines = [
      'B7\t2026-03-29 02:30:00\t0\t1\t0', // DST gap: 02:30 does not exist in Paris
      'B7\t2026-10-25 02:30:00\t0\t1\t0', // DST overlap: 02:30 happens twice
      'B7\t2026-11-20 08:00:00', // 2 fields: PIN and time are enough (a 255 "punch")
      `B7\t2026-11-20 08:00:00\t0\t1\t0${'\tx'.repeat(15)}`, // 20 fields, the same punch again: a duplicate
      'X9\t2026-11-20 08:00:00\t0\t1\t0', // a PIN of another school
      'B7\t2026-02-30 08:00:00\t0\t1\t0', // no such day
      'B7\t2099-01-01 08:00:00\t0\t1\t0', // in the future
      'B7\t2026-11-20 08:00:00\tin\t1\t0', // status not a number
      '\u0000\u00ff\ufffd\u0001garbage',
    ];
    const res = await terminal.upload('ATTLOG', `${lines.join('\n')}\n\n`);
    expect(res.body).toBe('OK: 9');
    const [stats] = await imported(deviceId, 1);
    expect(stats).toMatchObject({ received: 9, accepted: 3, duplicates: 1, rejected: 5 });
    const codes = await db.db.selectFrom('rejections').innerJoin('sync_sessions', 'sync_sessions.id', 'rejections.session_id')
      .select(['line', 'code']).where('sync_sessions.device_id', '=', deviceId).orderBy('line').execute();
    expect(codes.map((c) => [c.line, c.code])).toEqual([
      [5, 'unknown_user'], [6, 'invalid_timestamp'], [7, 'in_future'], [8, 'invalid_type'], [9, 'malformed_row'],
    ]);
    const rows = await punchesOf(deviceId);
    // Gap: read with the offset before the jump (+01:00): 01:30Z. Overlap: the first occurrence (+02:00): 00:30Z.
    expect(rows.map((r) => [r.user_id, r.local, r.occurred_at.toISOString()])).toEqual([
      [bob.id, '2026-03-29 02:30:00', '2026-03-29T01:30:00.000Z'],
      [bob.id, '2026-10-25 02:30:00', '2026-10-25T00:30:00.000Z'],
      [bob.id, '2026-11-20 08:00:00', '2026-11-20T07:00:00.000Z'],
    ]);
  });

  test('a terminal moved to another school: what it held stays, what it sends next belongs to the new school', async () => {
    const first = await aSchool(db.db);
    const second = await aSchool(db.db);
    await aUser(db.db, first.id, { badge: '5' });
    const newcomer = await aUser(db.db, second.id, { badge: '5' });
    const { terminal, deviceId } = await registered(first.id);
    const old = [{ pin: '5', time: '2026-11-19 08:00:00', status: 0 }];
    expect((await terminal.punches(old)).body).toBe('OK: 1');
    await imported(deviceId, 1);
    expect((await http(stack.url, 'PATCH', `/api/push/terminals/${deviceId}`, { token: staff, body: { school_id: second.id } })).status).toBe(200);
    // Sent again after the move (and a new punch): the old one is a duplicate, never a second row in the new school.
    expect((await terminal.punches([...old, { pin: '5', time: '2026-11-20 08:00:00', status: 0 }])).body).toBe('OK: 2');
    const [, stats] = await imported(deviceId, 2);
    expect(stats).toMatchObject({ accepted: 1, duplicates: 1 });
    const rows = await punchesOf(deviceId);
    expect(rows.map((r) => [r.local, r.school_id])).toEqual([['2026-11-19 08:00:00', first.id], ['2026-11-20 08:00:00', second.id]]);
    expect(rows[1].user_id).toBe(newcomer.id);
  });
});

describe('commands', () => {
  test('a queued command reaches the terminal at its next poll (not before), its result is kept; another terminal\'s id changes nothing', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const { terminal: neighbour } = await registered(school.id);
    expect((await terminal.poll()).body).toBe('OK');
    const queued = await http(stack.url, 'POST', `/api/devices/${deviceId}/commands`, { token: staff, body: { command: 'INFO' } });
    expect(queued.status).toBe(201);
    // The idle mark of the first poll is dropped by the NOTIFY of the commit, which reaches the api a moment later.
    const commands = await waitFor(async () => {
      const polled = parseCommands((await terminal.poll()).body);
      return polled.length > 0 ? polled : undefined;
    }, 2000, 'the command reaches the terminal');
    expect(commands).toEqual([{ id: queued.body.id, command: 'INFO' }]);
    expect((await neighbour.results([`ID=${queued.body.id}&Return=0&CMD=INFO`])).body).toBe('OK');
    expect((await terminal.results([`ID=999999999&Return=0&CMD=INFO`])).body).toBe('OK');
    let [cmd] = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items;
    expect(cmd).toMatchObject({ status: 'sent', sends: 1 });
    // A shell result over several lines, batched with nothing else.
    expect((await terminal.results([`ID=${queued.body.id}&Return=0&CMD=Shell&Content=line one`, 'line two'])).body).toBe('OK');
    [cmd] = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items;
    expect(cmd).toMatchObject({ status: 'succeeded', return_code: 0, result_content: 'line one\nline two' });
    expect((await terminal.poll()).body).toBe('OK');
  });

  test('an idle poll is answered from memory: a command written without its NOTIFY is not seen until one arrives', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    expect((await terminal.poll()).body).toBe('OK');
    const [row] = await db.db.insertInto('push_commands').values({ school_id: school.id, device_id: deviceId, command: 'CHECK', source: 'staff' }).returning('id').execute();
    for (let i = 0; i < 3; i++) expect((await terminal.poll()).body).toBe('OK');
    await sql`SELECT pg_notify('push_terminals', ${`d:${deviceId}`})`.execute(db.db);
    const polled = await waitFor(async () => {
      const body = (await terminal.poll()).body;
      return body === 'OK' ? undefined : body;
    }, 2000, 'the command after the notification');
    expect(parseCommands(polled)).toEqual([{ id: Number(row.id), command: 'CHECK' }]);
  });

  test('flags become commands: REBOOT applied by its result, SET_SETTINGS failed by a negative one, an unanswered command resent then failed', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const reboot = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'REBOOT' } });
    expect(reboot.status).toBe(201);
    const settings = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'SET_SETTINGS', params: { volume: 3 } } });
    const info = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'REPORT_SETTINGS' } });
    const sent = parseCommands((await terminal.poll()).body);
    expect(sent.map((c) => c.command)).toEqual(['REBOOT', 'SET OPTION volume=3', 'INFO']);
    const flagState = async (id: number) => (await http(stack.url, 'GET', `/api/devices/${deviceId}/flags/${id}`, { token: staff })).body.state;
    expect(await flagState(reboot.body.id)).toBe('delivered');
    await terminal.results([`ID=${sent[0].id}&Return=0&CMD=REBOOT`, `ID=${sent[1].id}&Return=-1002&CMD=SET OPTION`]);
    expect(await flagState(reboot.body.id)).toBe('applied');
    expect(await flagState(settings.body.id)).toBe('cancelled');
    const events = (await http(stack.url, 'GET', `/api/devices/${deviceId}/flags/${settings.body.id}`, { token: staff })).body.events;
    expect(events.at(-1)).toMatchObject({ action: 'cancelled', details: { failed: true } });

    // INFO unanswered: sent again after PUSH_COMMAND_ANSWER_SECONDS (1 s here), then failed after its second send.
    await new Promise((r) => setTimeout(r, 1100));
    expect(parseCommands((await terminal.poll()).body)).toEqual([sent[2]]);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await terminal.poll()).body).toBe('OK');
    const history = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items;
    expect(history.find((c: { id: number }) => c.id === sent[2].id)).toMatchObject({ status: 'failed', sends: 2, failure: 'no answer after 2 sends' });
    expect(await flagState(info.body.id)).toBe('cancelled');
  });

  test('a flag that expires before the terminal polls: its command is cancelled, never sent', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const reboot = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'REBOOT' } });
    expect(reboot.status).toBe(201);
    // The terminal was off while the flag's life ran out.
    await db.db.updateTable('device_flags').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', reboot.body.id).execute();
    expect((await terminal.poll()).body).toBe('OK');
    const history = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items as Array<{ command: string; status: string; sends: number; failure: string | null }>;
    expect(history.find((c) => c.command === 'REBOOT')).toMatchObject({ status: 'cancelled', sends: 0, failure: 'its flag expired' });
    expect((await http(stack.url, 'GET', `/api/devices/${deviceId}/flags/${reboot.body.id}`, { token: staff })).body.state).toBe('expired');
    expect((await terminal.poll()).body).toBe('OK');
  });

  test('a command sent to a terminal that then goes silent is failed at its deadline without another poll, and its flag with it', async () => {
    const school = await aSchool(db.db);
    const { terminal, deviceId } = await registered(school.id);
    const reboot = await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'REBOOT' } });
    const [sent] = parseCommands((await terminal.poll()).body);
    expect(sent.command).toBe('REBOOT');
    // Never polled again: with answers due in 1 s and 2 sends, the worker's sweep fails it a few seconds on.
    const failed = await waitFor(async () => {
      const history = (await http(stack.url, 'GET', `/api/devices/${deviceId}/commands`, { token: staff })).body.items as Array<{ id: number; status: string }>;
      const command = history.find((c) => c.id === sent.id);
      return command?.status === 'failed' ? command : undefined;
    }, 15_000, 'command failed by its deadline');
    expect(failed).toMatchObject({ sends: 1, failure: 'no answer after 1 sends' });
    const flag = (await http(stack.url, 'GET', `/api/devices/${deviceId}/flags/${reboot.body.id}`, { token: staff })).body;
    expect(flag.state).toBe('cancelled');
    expect(flag.events.at(-1)).toMatchObject({ action: 'cancelled', details: { failed: true, command_id: sent.id } });
  });

  test('the roster goes down as USERINFO commands at registration and on changes; the terminal\'s own users are compared with it', async () => {
    const school = await aSchool(db.db);
    const ana = await aUser(db.db, school.id, { badge: '1', name: 'Ana' });
    const ben = await aUser(db.db, school.id, { badge: '2', name: 'Ben' });
    const { terminal, deviceId } = await registered(school.id);
    const nextCommands = () => waitFor(async () => {
      const polled = parseCommands((await terminal.poll()).body);
      if (polled.length === 0) return undefined;
      // Answered in one devicecmd, as a terminal does (unanswered they would be sent again).
      expect((await terminal.results(polled.map((c) => `ID=${c.id}&Return=0&CMD=DATA`))).body).toBe('OK');
      return polled.map((c) => c.command);
    }, 5000, 'roster commands');
    // First roster: every active user (the worker queues it within PUSH_ROSTER_SECONDS).
    expect(await nextCommands()).toEqual(['DATA UPDATE USERINFO PIN=1\tName=Ana\tPri=0', 'DATA UPDATE USERINFO PIN=2\tName=Ben\tPri=0']);
    expect((await http(stack.url, 'PATCH', `/api/users/${ben.id}`, { token: staff, body: { name: 'Benjamin' } })).status).toBe(200);
    expect((await http(stack.url, 'DELETE', `/api/users/${ana.id}`, { token: staff })).status).toBeLessThan(300);
    const changes = await nextCommands();
    expect(changes.sort()).toEqual(['DATA DELETE USERINFO PIN=1', 'DATA UPDATE USERINFO PIN=2\tName=Benjamin\tPri=0']);

    await http(stack.url, 'POST', `/api/devices/${deviceId}/flags`, { token: staff, body: { name: 'RELOAD_ROSTER' } });
    expect(await nextCommands()).toEqual(['DATA DELETE USERINFO PIN=1', 'DATA UPDATE USERINFO PIN=2\tName=Benjamin\tPri=0']);

    const oper = await terminal.upload('OPERLOG', 'USER PIN=2\tName=Ben\tPri=0\tCard=\nUSER PIN=9\tName=Stranger\tPri=14\nFP PIN=2\tFID=6\tSize=1\tValid=1\tTMP=abc\nOPLOG 4\t0\t2026-11-20 08:00:00\t0\t0\t0\t0\n');
    expect(oper.body).toBe('OK: 4');
    const diff = (await http(stack.url, 'GET', `/api/devices/${deviceId}/terminal-users`, { token: staff })).body.items;
    expect(diff.map((d: { pin: string; difference: string }) => [d.pin, d.difference])).toEqual([['2', 'name_differs'], ['9', 'unknown_to_roster']]);
  });

  test('staff add the terminal\'s users the roster lacks to the school (OPERLOG USER lines), once', async () => {
    const school = await aSchool(db.db);
    const other = await aSchool(db.db);
    await aUser(db.db, school.id, { badge: '1', name: 'Ana' });
    const gone = await aUser(db.db, school.id, { badge: '903', name: 'Gone' });
    await db.db.updateTable('users').set({ deleted_at: new Date() }).where('id', '=', gone.id).execute();
    const { terminal, deviceId } = await registered(school.id);
    const oper = await terminal.upload('OPERLOG', 'USER PIN=901\tName=Ada Lovelace\tPri=0\nUSER PIN=902\tName=\tPri=0\nUSER PIN=903\tName=Gone\tPri=0\nUSER PIN=904\tName=Grace Hopper\tPri=0\n');
    expect(oper.body).toBe('OK: 4');
    const pinsOf = async () => (await http(stack.url, 'GET', `/api/devices/${deviceId}/terminal-users`, { token: staff })).body.items
      .filter((d: { difference: string }) => d.difference === 'unknown_to_roster').map((d: { pin: string }) => d.pin);
    expect(await pinsOf()).toEqual(['901', '902', '903', '904']);
    const url = `/api/devices/${deviceId}/terminal-users/import`;

    // Refused whole, each PIN named: no name, a deactivated user's badge, not on the terminal.
    const refused = await http(stack.url, 'POST', url, { token: staff, body: { pins: ['901', '902', '903', '777'] } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: { field: string; message: string }) => [e.field, e.message])).toEqual([
      ['body.pins[1]', 'PIN 902 has no name on the terminal'],
      ['body.pins[2]', 'PIN 903 is the badge of a deactivated user of the school'],
      ['body.pins[3]', 'PIN 777 is not on the terminal'],
    ]);
    expect(await db.db.selectFrom('users').select('id').where('school_id', '=', school.id).where('badge', '=', '901').execute()).toEqual([]);

    // Another school's admin does not see the terminal.
    const outsider = await loginAs(stack.url, await aStaff(db.db, 'school_admin', other.id));
    expect((await http(stack.url, 'POST', url, { token: outsider, body: { pins: ['901'] } })).status).toBe(404);

    const admin = await loginAs(stack.url, await aStaff(db.db, 'school_admin', school.id));
    const done = await http(stack.url, 'POST', url, { token: admin, body: { pins: ['901', '1'] } });
    expect(done.status).toBe(201);
    expect(done.body.created).toEqual([expect.objectContaining({ school_id: school.id, badge: '901', name: 'Ada Lovelace', deleted_at: null })]);
    expect(done.body.skipped).toEqual(['1']);
    expect(await db.db.selectFrom('users').select(['badge', 'name']).where('school_id', '=', school.id).where('badge', '=', '901').execute())
      .toEqual([{ badge: '901', name: 'Ada Lovelace' }]);
    expect(await pinsOf()).toEqual(['902', '903', '904']);

    const again = await http(stack.url, 'POST', url, { token: staff, body: { pins: ['901'] } });
    expect([again.status, again.body]).toEqual([201, { created: [], skipped: ['901'] }]);
    expect(await db.db.selectFrom('users').select('id').where('school_id', '=', school.id).where('badge', '=', '901').execute()).toHaveLength(1);
  });
});

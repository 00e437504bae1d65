// A serial number is no secret (issue #33 §4–§5), against the real api and worker over HTTP, calls
// made from other loopback addresses (127.0.x.y) standing for other places. An approved terminal is
// bound to the address it was approved from: a caller elsewhere gets no roster, cannot mark its
// commands done, injects nothing, and staff see it and confirm where the terminal is; a serial number
// used from two places at once is flagged and held; calls per serial number are rate-limited; a
// Security PUSH 3.x terminal that carries its RegistryCode's token is refused without it. An unknown
// serial number stores little (options bounded), pending terminals expire, and a new terminal's first
// contact is always recorded however many strangers called before.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { attlogBody, handshakeOptions, parseCommands } from '../../simulator/push-client.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { waitFor } from '../sync/helpers.js';

const SCHOOL_NET = '127.0.0.1';
const ELSEWHERE = '127.0.9.9';
const ELSEWHERE_TOO = '127.0.7.7';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let staff: string;
let counter = 0;
const nextSn = (tag = 'SNB') => `${tag}${Date.now().toString(36).toUpperCase()}${++counter}`;

beforeAll(async () => {
  stack = await startStack({ worker: true, env: { PUSH_ROSTER_SECONDS: '1', PUSH_RATE_PER_SECOND: '5', PUSH_RATE_BURST: '40' } });
  db = connectTestDatabase(stack.databaseUrl);
  staff = await loginAs(stack.url, await aStaff(db.db, 'backoffice'));
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

interface Answer { status: number; body: string; headers: Record<string, string | string[] | undefined> }

/** A PUSH terminal (or whoever knows its SN) calling from `from`. */
class At {
  constructor(readonly sn: string, readonly from: string, private readonly cookie: string | null = null) {}

  call(method: 'GET' | 'POST', path: string, query: Record<string, string> = {}, body?: string): Promise<Answer> {
    const url = new URL(`${stack.url}${path}?${new URLSearchParams({ SN: this.sn, ...query })}`);
    return new Promise((resolve, reject) => {
      const req = request({
        host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, localAddress: this.from, agent: false,
        headers: { 'content-type': 'text/plain', ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }), ...(this.cookie && { cookie: this.cookie }) },
      }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { data += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  handshake(extra: Record<string, string> = {}) { return this.call('GET', '/iclock/cdata', { options: 'all', pushver: '2.4.1', ...extra }); }
  poll() { return this.call('GET', '/iclock/getrequest'); }
  punches(lines: Array<{ pin: string; time: string }>) { return this.call('POST', '/iclock/cdata', { table: 'ATTLOG' }, attlogBody(lines)); }
  options(body: string) { return this.call('POST', '/iclock/cdata', { table: 'options' }, body); }
  results(lines: string[]) { return this.call('POST', '/iclock/devicecmd', {}, `${lines.join('\n')}\n`); }
  registry(options: Record<string, string>) { return this.call('POST', '/iclock/registry', {}, Object.entries(options).map(([k, v]) => `${k}=${v}`).join(',')); }
}

async function sessionsOf(deviceId: string) {
  return db.db.selectFrom('sync_sessions').select('id').where('device_id', '=', deviceId).execute();
}
async function commandsOf(deviceId: string) {
  return db.db.selectFrom('push_commands').select(['id', 'command', 'status', 'sends']).where('device_id', '=', deviceId).orderBy('id').execute();
}
async function attention(schoolId: number): Promise<Record<string, string[]>> {
  const res = await http(stack.url, 'GET', `/api/devices?school_id=${schoolId}&attention=true`, { token: staff });
  expect(res.status).toBe(200);
  return Object.fromEntries(res.body.items.map((d: { id: string; attention_reasons: string[] }) => [d.id, d.attention_reasons]));
}
const confirm = (deviceId: string, address: string) => http(stack.url, 'POST', `/api/push/terminals/${deviceId}/address`, { token: staff, body: { address } });

describe('an approved terminal is bound to where it was approved', () => {
  test('a caller elsewhere gets no roster, cannot mark commands done, injects nothing; staff see it and confirm a move', async () => {
    const school = await aSchool(db.db);
    for (const badge of ['501', '502', '503']) await aUser(db.db, school.id, { badge });
    const sn = nextSn();
    const terminal = new At(sn, SCHOOL_NET);
    const stranger = new At(sn, ELSEWHERE);

    // First contact from the school; staff approve it as they see it in the pending list.
    expect((await terminal.handshake()).status).toBe(200);
    const approved = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Gate' } });
    expect(approved.status).toBe(201);
    const deviceId = approved.body.id as string;
    const roster = await waitFor(async () => {
      const rows = await commandsOf(deviceId);
      return rows.length === 3 ? rows : undefined;
    }, 15_000, 'roster queued');

    // The stranger knows the SN: no roster, no command marked done, no punch stored.
    const polled = await stranger.poll();
    expect([polled.status, polled.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    const marked = await stranger.results(roster.map((c) => `ID=${c.id}&Return=0&CMD=DATA`));
    expect([marked.status, marked.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    const injected = await stranger.punches([{ pin: '501', time: '2026-11-20 08:00:00' }, { pin: '502', time: '2026-11-20 08:01:00' }]);
    expect([injected.status, injected.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    expect((await stranger.handshake()).status).toBe(403);
    expect((await commandsOf(deviceId)).map((c) => [c.status, c.sends])).toEqual([['queued', 0], ['queued', 0], ['queued', 0]]);
    expect(await sessionsOf(deviceId)).toEqual([]);

    // Staff see where it came from.
    expect((await attention(school.id))[deviceId]).toEqual(['address_changed']);
    const state = await http(stack.url, 'GET', `/api/devices/${deviceId}/push`, { token: staff });
    expect(state.body.binding).toMatchObject({ mode: 'network', bound_address: SCHOOL_NET, confirmed: true, claimed_address: ELSEWHERE, conflict_at: null });

    // The terminal itself is not held: it gets its roster and its results count.
    const commands = parseCommands((await terminal.poll()).body);
    expect(commands.map((c) => c.command)).toEqual(roster.map((c) => c.command));
    expect((await terminal.results(commands.map((c) => `ID=${c.id}&Return=0&CMD=DATA`))).body).toBe('OK');
    expect((await commandsOf(deviceId)).map((c) => c.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect((await terminal.punches([{ pin: '501', time: '2026-11-20 08:00:00' }])).body).toBe('OK: 1');

    // A stale click (an address that is neither) changes nothing; the terminal moved: staff confirm the new address.
    expect((await confirm(deviceId, '127.0.3.3')).status).toBe(409);
    const moved = await confirm(deviceId, ELSEWHERE);
    expect(moved.status).toBe(200);
    expect(moved.body.address_alert).toBeNull();
    expect((await attention(school.id))[deviceId]).toBeUndefined();
    expect((await stranger.punches([{ pin: '502', time: '2026-11-20 08:05:00' }])).body).toBe('OK: 1');
    expect((await terminal.punches([{ pin: '503', time: '2026-11-20 08:06:00' }])).status).toBe(403);
    const after = await http(stack.url, 'GET', `/api/devices/${deviceId}/push`, { token: staff });
    expect(after.body.binding).toMatchObject({ bound_address: ELSEWHERE, confirmed: true, claimed_address: SCHOOL_NET });
    expect(after.body.binding.confirmations[0]).toMatchObject({ address: ELSEWHERE, previous_address: SCHOOL_NET });
    expect(after.body.binding.confirmations[0].confirmed_by).toMatch(/@/);
  });

  test('the network binding admits another address of the same /24; exact does not; off admits any', async () => {
    const school = await aSchool(db.db);
    await aUser(db.db, school.id, { badge: '9' });
    const punch = [{ pin: '9', time: '2026-11-20 08:00:00' }];
    const sn = nextSn();
    expect((await new At(sn, '127.0.4.1').handshake()).status).toBe(200);
    const res = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Gate' } });
    expect((await new At(sn, '127.0.4.200').punches(punch)).body).toBe('OK: 1');
    expect((await http(stack.url, 'PATCH', `/api/push/terminals/${res.body.id}`, { token: staff, body: { address_binding: 'exact' } })).status).toBe(200);
    expect((await new At(sn, '127.0.4.200').punches(punch)).status).toBe(403);
    expect((await new At(sn, '127.0.4.1').punches(punch)).body).toBe('OK: 1');
    expect((await http(stack.url, 'PATCH', `/api/push/terminals/${res.body.id}`, { token: staff, body: { address_binding: 'off' } })).status).toBe(200);
    expect((await new At(sn, '127.0.8.8').punches(punch)).body).toBe('OK: 1');
  });
});

describe('a serial number used from two places at once', () => {
  test('is flagged, and both are held until staff confirm one; then only the other is refused', async () => {
    const school = await aSchool(db.db);
    await aUser(db.db, school.id, { badge: '77' });
    const sn = nextSn();
    // Registered in advance: bound to its first call, which nobody confirmed.
    const res = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Gate' } });
    const deviceId = res.body.id as string;
    const here = new At(sn, SCHOOL_NET);
    const there = new At(sn, ELSEWHERE_TOO);
    expect((await here.punches([{ pin: '77', time: '2026-11-20 08:00:00' }])).body).toBe('OK: 1');
    expect((await there.poll()).status).toBe(403);
    // The bound address calls again while the other one does: both held.
    const held = await here.punches([{ pin: '77', time: '2026-11-20 09:00:00' }]);
    expect([held.status, held.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    expect((await here.poll()).status).toBe(403);
    expect((await there.punches([{ pin: '77', time: '2026-11-20 09:30:00' }])).status).toBe(403);
    expect((await attention(school.id))[deviceId]).toEqual(['address_conflict']);
    expect(await sessionsOf(deviceId)).toHaveLength(1);

    // Staff confirm the school's address: it syncs again (the punch it kept arrives), the other stays refused.
    expect((await confirm(deviceId, SCHOOL_NET)).status).toBe(200);
    expect((await here.punches([{ pin: '77', time: '2026-11-20 09:00:00' }])).body).toBe('OK: 1');
    expect((await there.poll()).status).toBe(403);
    expect((await here.poll()).status).toBe(200);
    expect((await here.punches([{ pin: '77', time: '2026-11-20 10:00:00' }])).body).toBe('OK: 1');
    expect((await attention(school.id))[deviceId]).toEqual(['address_conflict']);
    expect(await sessionsOf(deviceId)).toHaveLength(3);
  });
});

describe('calls per serial number', () => {
  test('past the burst, 503 with Retry-After; another serial number is not slowed down', async () => {
    const sn = nextSn('RATE');
    const answers = await Promise.all(Array.from({ length: 60 }, () => new At(sn, SCHOOL_NET).poll()));
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThanOrEqual(15);
    expect(busy[0].body).toBe('SERVER BUSY');
    expect(Number(busy[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await new At(nextSn('RATE'), SCHOOL_NET).poll()).status).toBe(200);
  });
});

describe('Security PUSH 3.x RegistryCode', () => {
  test('once the terminal sent the token of its RegistryCode, a call without it is refused, even from its address', async () => {
    const school = await aSchool(db.db);
    await aUser(db.db, school.id, { badge: '31' });
    const sn = nextSn();
    const bare = new At(sn, SCHOOL_NET);
    const params = { DeviceType: 'acc', '~DeviceName': 'SpeedFace-V5L', FirmVer: 'ZAM180-Ver1.1.17', PushVersion: '3.1.2' };
    expect((await bare.handshake({ pushver: '3.1.2', DeviceType: 'acc' })).body).toBe('OK');
    const res = await http(stack.url, 'POST', '/api/push/terminals', { token: staff, body: { serial_number: sn, school_id: school.id, name: 'Face gate' } });
    expect(res.status).toBe(201);
    const code = /^RegistryCode=([0-9a-f]{32})$/.exec((await bare.registry(params)).body)?.[1];
    expect(code).toBeDefined();
    const session = handshakeOptions((await bare.call('POST', '/iclock/push')).body).SessionID;
    expect(session).toMatch(/^[0-9A-F]{32}$/);
    const token = createHash('md5').update(`${code}${sn}${session}`).digest('hex');
    const terminal = new At(sn, SCHOOL_NET, `token=${token}`);
    const rtlog = (t: At, time: string) => t.call('POST', '/iclock/cdata', { table: 'rtlog' }, `time=${time}\tpin=31\tinoutstatus=0\tverifytype=15\n`);

    expect((await rtlog(terminal, '2026-12-04 08:00:00')).body).toBe('OK');
    const without = await rtlog(bare, '2026-12-04 08:01:00');
    expect([without.status, without.body]).toEqual([403, 'DEVICE NOT APPROVED']);
    expect((await new At(sn, SCHOOL_NET, 'token=0123456789abcdef0123456789abcdef').poll()).status).toBe(403);
    expect((await terminal.poll()).status).toBe(200);
    expect((await rtlog(terminal, '2026-12-04 08:02:00')).body).toBe('OK');
    expect(await sessionsOf(res.body.id)).toHaveLength(2);
  });
});

describe('what an unknown serial number may store', () => {
  test('its options are bounded however often it posts them', async () => {
    const sn = nextSn('UNK');
    const stranger = new At(sn, '127.0.6.6');
    // What an unknown caller may post is 16 KiB a call: 1,400 new keys a time, 11 times.
    for (let upload = 0; upload < 11; upload++) {
      const body = Array.from({ length: 1400 }, (_, i) => `K${upload}_${i}=1`).join(',');
      expect((await stranger.options(body)).body).toBe('OK: 1');
    }
    const row = await sql<{ keys: number; bytes: number }>`
      SELECT (SELECT count(*) FROM jsonb_object_keys(options))::int AS keys, pg_column_size(options)::int AS bytes FROM push_serials WHERE serial_number = ${sn}
    `.execute(db.db);
    expect(row.rows[0].keys).toBeLessThanOrEqual(32);
    expect(row.rows[0].bytes).toBeLessThan(16 * 1024);
  });

  test('a new terminal\'s first contact is recorded when strangers filled the pending list; stale pending terminals expire', async () => {
    // 1,000 made-up SNs already pending (the cap), and one not heard from for 8 days.
    await sql`
      INSERT INTO push_serials (serial_number, last_seen_at, address)
      SELECT 'FLOOD' || g, now() - make_interval(secs => 1000 - g), '127.0.5.' || (g % 250) FROM generate_series(1, 1000) g
    `.execute(db.db);
    await sql`INSERT INTO push_serials (serial_number, last_seen_at, address) VALUES ('STALEPENDING', now() - interval '8 days', '127.0.5.5')`.execute(db.db);
    const sn = nextSn('REAL');
    expect((await new At(sn, SCHOOL_NET).handshake()).status).toBe(200);
    const pending = await http(stack.url, 'GET', '/api/push/pending', { token: staff });
    const listed = pending.body.items.map((p: { serial_number: string }) => p.serial_number) as string[];
    expect(listed).toContain(sn);
    expect(listed).not.toContain('STALEPENDING');
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM push_serials WHERE school_id IS NULL`.execute(db.db);
    expect(count.rows[0].n).toBeLessThanOrEqual(1000);

    // A flood from one address churns its own entries: the real terminal's stays.
    for (let i = 0; i < 30; i++) expect((await new At(`FLOODX${i}`, '127.0.6.1').handshake()).status).toBe(200);
    const fromFlood = await sql<{ n: number }>`SELECT count(*)::int AS n FROM push_serials WHERE school_id IS NULL AND address = '127.0.6.1'`.execute(db.db);
    expect(fromFlood.rows[0].n).toBeLessThanOrEqual(20);
    const again = (await http(stack.url, 'GET', '/api/push/pending', { token: staff })).body.items.map((p: { serial_number: string }) => p.serial_number);
    expect(again).toContain(sn);
    expect(again).toContain('FLOODX29');
  });
});

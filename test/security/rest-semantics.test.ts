// REST details tried as a client would (issue 17 §7).
//  - PUT replaces the whole resource: a PUT missing fields gets a 422 that says so and names
//    them, and PATCH changes part of it; every PUT's OpenAPI description says the same.
//  - A school admin asking about another school's resources gets exactly the answer given for
//    resources that do not exist, on every route of the OpenAPI document and whatever the query
//    string or body: the sweep below walks the document, so a new route is swept too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectTestDatabase } from '../support/database.js';
import { batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, anAttendance, aUser } from '../support/fixtures.js';
import { http, type HttpResult } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';
import { aWorld, type World } from '../api/world.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let w: World;
let doc: any;

beforeAll(async () => {
  stack = await startStack();
  db = connectTestDatabase(stack.databaseUrl);
  w = await aWorld(stack.url, db.db);
  doc = (await http(stack.url, 'GET', '/api/openapi.json')).body;
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

describe('PUT replaces, PATCH changes part', () => {
  test('PUT /api/schools/:id with only name and timezone: 422 saying PUT replaces the whole resource, naming the missing fields; PATCH with the same body changes them', async () => {
    const path = `/api/schools/${w.schoolA.id}`;
    const put = await http(stack.url, 'PUT', path, { token: w.backoffice.token, body: { name: 'Renamed', timezone: 'Europe/Paris' } });
    expect(put.status).toBe(422);
    expect(put.body.code).toBe('validation_failed');
    expect(put.body.detail).toMatch(/^PUT replaces the whole resource: .* use PATCH\. Missing: school_days, day_end, fever_threshold\.$/);
    expect(put.body.missing_fields).toEqual(['school_days', 'day_end', 'fever_threshold']);

    const patch = await http(stack.url, 'PATCH', path, { token: w.backoffice.token, body: { name: 'Renamed', timezone: 'Europe/Paris' } });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ name: 'Renamed', timezone: 'Europe/Paris' });

    const full = await http(stack.url, 'PUT', path, {
      token: w.backoffice.token, body: { name: 'Whole', timezone: 'UTC', school_days: [1, 2, 3, 4, 5], day_end: '17:00', fever_threshold: 37.5 },
    });
    expect(full.status).toBe(200);
  });

  test('the same for a user; a wrong value among complete fields is a plain 422', async () => {
    const user = await aUser(db.db, w.schoolA.id);
    const put = await http(stack.url, 'PUT', `/api/users/${user.id}`, { token: w.adminA.token, body: { name: 'Only a name' } });
    expect(put.status).toBe(422);
    expect(put.body.missing_fields).toEqual(['badge', 'enrolled_on']);
    const wrong = await http(stack.url, 'PUT', `/api/users/${user.id}`, { token: w.adminA.token, body: { name: 'N', badge: 'B-1', enrolled_on: 'soon' } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.missing_fields).toBeUndefined();
  });

  test('every PUT and PATCH of the OpenAPI document says which it is', () => {
    const operations = Object.values(doc.paths).flatMap((p: any) => Object.entries(p)) as Array<[string, any]>;
    const puts = operations.filter(([m]) => m === 'put');
    expect(puts.length).toBeGreaterThan(0);
    for (const [, op] of puts) expect(op.description).toMatch(/^PUT replaces the whole resource/);
    for (const [, op] of operations.filter(([m]) => m === 'patch')) expect(op.description).toMatch(/^PATCH changes the fields given/);
  });
});

describe("another school's resources answer like missing ones", () => {
  /** Per path parameter: school B's resource and one that does not exist. */
  let ids: Record<string, { other: string; none: string }>;
  let ownDevice: string;

  beforeAll(async () => {
    const userB = await aUser(db.db, w.schoolB.id);
    const deviceB = await aDevice(db.db, w.schoolB.id);
    const attendanceB = await anAttendance(db.db, userB, { photo: 'p1.jpg' });
    const dev = await new TestDevice(stack.url, deviceB).signIn();
    const session = await dev.upload(batchZip({ 'device.xml': deviceXml() }));
    const flag = await http(stack.url, 'POST', `/api/devices/${deviceB.id}/flags`, { token: w.backoffice.token, body: { name: 'REBOOT' } });
    const job = await http(stack.url, 'POST', `/api/schools/${w.schoolB.id}/rebuild-figures`, { token: w.backoffice.token, body: { from: '2026-11-02', to: '2026-11-08' } });
    if (session.status !== 202 || flag.status !== 201 || job.status !== 202) throw new Error('school B could not be set up');
    ownDevice = (await aDevice(db.db, w.schoolA.id)).id;
    // School B's calendar: a shared calendar it subscribes to, an entry of it, an entry of its own.
    const calendarB = await http(stack.url, 'POST', '/api/calendars', { token: w.backoffice.token, body: { name: 'Region of B' } });
    const sharedEntryB = await http(stack.url, 'POST', `/api/calendars/${calendarB.body.id}/entries`, { token: w.backoffice.token, body: { kind: 'holiday', label: 'H', starts_on: '2026-12-19', ends_on: '2027-01-03' } });
    const schoolEntryB = await http(stack.url, 'POST', `/api/schools/${w.schoolB.id}/calendar/entries`, { token: w.backoffice.token, body: { kind: 'closure', label: 'C', starts_on: '2026-11-10', ends_on: '2026-11-10' } });
    const subscribed = await http(stack.url, 'PUT', `/api/schools/${w.schoolB.id}/calendar`, { token: w.backoffice.token, body: { shared_calendar_id: calendarB.body.id } });
    if (sharedEntryB.status !== 201 || schoolEntryB.status !== 201 || subscribed.status !== 200) throw new Error('school B\'s calendar could not be set up');
    const big = '987654321';
    ids = {
      school: { other: String(w.schoolB.id), none: big },
      device: { other: deviceB.id, none: randomUUID() },
      user: { other: String(userB.id), none: big },
      session: { other: session.body.session_id, none: randomUUID() },
      attendance: { other: String(attendanceB.id), none: big },
      flag: { other: String(flag.body.id), none: big },
      job: { other: String(job.body.id), none: big },
      staff: { other: String(w.adminB.id), none: big },
      run: { other: big, none: String(Number(big) + 1) },
      calendar: { other: String(calendarB.body.id), none: big },
      calendarEntry: { other: String(sharedEntryB.body.id), none: big },
      schoolCalendarEntry: { other: String(schoolEntryB.body.id), none: big },
      // PUSH: pending terminals belong to no school (backoffice only); a command id is a number.
      pendingTerminal: { other: 'SWEEPPENDING1', none: 'SWEEPNONE1' },
      pushCommand: { other: big, none: String(Number(big) + 1) },
    };
  });

  /** Which resource a path's `{id}` names. */
  function resourceOf(path: string, param: string): string {
    if (param === 'flagId') return 'flag';
    if (param === 'sn') return 'pendingTerminal';
    if (param === 'commandId') return 'pushCommand';
    if (path.startsWith('/api/push/terminals/')) return 'device';
    if (param === 'entry_id') return path.startsWith('/api/calendars/') ? 'calendarEntry' : 'schoolCalendarEntry';
    const [, , first] = path.split('/');
    if (path.startsWith('/api/attendances/aggregate/school/')) return 'school';
    const byPrefix: Record<string, string> = {
      schools: 'school', devices: 'device', users: 'user', sessions: 'session', attendances: 'attendance', jobs: 'job', staff: 'staff', datamart: 'run', calendars: 'calendar',
    };
    const resource = byPrefix[first];
    if (!resource) throw new Error(`the sweep does not know what {${param}} of ${path} names: add it`);
    return resource;
  }

  const QUERIES = [
    '', '?limit=5', '?limit=abc', '?cursor=not-a-cursor', '?from=2026-11-01&to=2026-11-07', '?period=week&from=2026-11-01&to=2026-11-30&include=users',
    '?from=2026-11-30&to=2026-11-01', '?from=2020-01-01&to=2026-11-30', '?channel=synchro', '?state=pending', '?name=REBOOT', '?unknown=1',
  ];
  /** Query parameters naming a resource: swept with school B's and with a missing one. */
  const ID_QUERIES: Record<string, string> = { school_id: 'school', user_id: 'user', device_id: 'device' };
  const BODIES = (resource: (name: string) => string) => [
    undefined, {}, { name: 'Renamed' },
    { name: 'N', badge: `B-${Date.now()}`, enrolled_on: '2026-11-01' },
    { name: 'REBOOT' }, { from: '2026-11-02', to: '2026-11-08' },
    { school_id: Number(resource('school')), name: 'N', badge: `C-${Date.now()}` },
    { school_id: Number(resource('school')), body: 'Hello' },
    { device_id: resource('device'), body: 'Hello' },
    { user_id: Number(resource('user')), type: 'checkin', occurred_at: '2026-11-20T08:00:00Z' },
  ];

  /** The BODIES that name a resource of school B (the others only matter with an id in the path). */
  const NAMING_BODIES = [6, 7, 8, 9];

  /** What a client sees of an answer: status, content type, body, and the headers that carry meaning. */
  function seen(res: HttpResult) {
    const headers = Object.fromEntries(['content-type', 'etag', 'location', 'retry-after', 'www-authenticate'].map((h) => [h, res.headers.get(h)]));
    return { status: res.status, headers, body: Buffer.isBuffer(res.body) ? `<${res.body.length} bytes>` : res.body };
  }

  test('on every staff route of the OpenAPI document, with every query string and body', async () => {
    const requests: Array<{ label: string; method: string; path: (which: 'other' | 'none') => string; body: (which: 'other' | 'none') => unknown }> = [];
    for (const [template, operations] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(operations)) {
        if (!op.security?.some((s: any) => s.staffToken)) continue;
        const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const fill = (which: 'other' | 'none') => template.replace(/\{(\w+)\}/g, (_m: string, p: string) => ids[resourceOf(template, p)][which]);
        // Two ids (a device's flag): the caller's own device with another school's flag, too.
        if (params.length > 1) {
          const mixed = (which: 'other' | 'none') => template.replace(/\{(\w+)\}/g, (_m: string, p: string) => (p === params[0] ? ownDevice : ids[resourceOf(template, p)][which]));
          requests.push({ label: `${method.toUpperCase()} ${mixed('other')} (own device)`, method: method.toUpperCase(), path: mixed, body: () => undefined });
        }
        const queryNames = new Set((op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name));
        const idQueries = Object.entries(ID_QUERIES).filter(([name]) => queryNames.has(name));
        for (const which of [...(params.length > 0 ? [null] : []), ...idQueries]) {
          const queries = method === 'get' ? QUERIES : [''];
          for (const q of queries) {
            const withId = (w2: 'other' | 'none') => {
              const base = params.length > 0 && which === null ? fill(w2) : fill('other');
              if (which === null) return `${base}${q}`;
              const [name, resource] = which;
              return `${base}${q}${q ? '&' : '?'}${name}=${ids[resource][w2]}`;
            };
            for (const b of method === 'get' || method === 'delete' ? [undefined] : BODIES(() => '')) {
              const bodyIndex = method === 'get' || method === 'delete' ? 0 : BODIES(() => '').indexOf(b as never);
              requests.push({
                label: `${method.toUpperCase()} ${withId('other')}${b === undefined ? '' : ` body#${bodyIndex}`}`,
                method: method.toUpperCase(),
                path: withId,
                body: (w2) => (method === 'get' || method === 'delete' ? undefined : BODIES((r) => ids[r][w2])[bodyIndex]),
              });
            }
          }
        }
        // Bodies naming a resource on routes without one in the path (POST /api/messages, /api/users, /api/attendances).
        if (params.length === 0 && idQueries.length === 0 && method !== 'get') {
          BODIES(() => '').forEach((_b, bodyIndex) => NAMING_BODIES.includes(bodyIndex) && requests.push({
            label: `${method.toUpperCase()} ${template} body#${bodyIndex}`, method: method.toUpperCase(), path: () => template,
            body: (w2) => BODIES((r) => ids[r][w2])[bodyIndex],
          }));
        }
      }
    }
    expect(requests.length).toBeGreaterThan(200);

    const differences: string[] = [];
    for (const r of requests) {
      const other = seen(await http(stack.url, r.method, r.path('other'), { token: w.adminA.token, body: r.body('other') }));
      const none = seen(await http(stack.url, r.method, r.path('none'), { token: w.adminA.token, body: r.body('none') }));
      if (JSON.stringify(other) !== JSON.stringify(none)) differences.push(`${r.label}: ${JSON.stringify(other)} vs ${JSON.stringify(none)}`);
      if (other.status >= 200 && other.status < 300 && r.method !== 'GET') differences.push(`${r.label}: changed another school's data (${other.status})`);
    }
    expect(differences).toEqual([]);
  });
});

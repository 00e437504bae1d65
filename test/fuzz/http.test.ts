// Fuzzing over real HTTP (issue 33 §7): random JSON bodies on every JSON route of the OpenAPI
// document (so a new route is fuzzed too), random bodies posted by a registered PUSH terminal,
// and mutated archives uploaded by a v4 device. No answer may be a 5xx, and a refused upload
// leaves no row: every stored row belongs to a session the worker imported (wholly or in part).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { PushTerminal } from '../../simulator/push-client.js';
import { TestDevice } from '../support/device-client.js';
import { aDevice, aUser } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { aWorld, type World } from '../api/world.js';
import { RUNS, runs } from './runs.js';

// The per-SN rate limit would answer the fuzzed terminal 503 after its burst: this suite is about what a body does.
const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off', PUSH_RATE_BURST: '100000' } });
let w: World;
let doc: any;
let jsonRoutes: Array<{ method: string; template: string; properties: string[] }>;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
  doc = (await http(suite.url, 'GET', '/api/openapi.json')).body;
  jsonRoutes = [];
  for (const [template, operations] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(operations)) {
      let schema = op.requestBody?.content?.['application/json']?.schema;
      if (!schema) continue;
      if (schema.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()];
      jsonRoutes.push({ method: method.toUpperCase(), template, properties: Object.keys(schema.properties ?? {}) });
    }
  }
});

/** Values a client gets wrong: long, empty, NUL, odd unicode, huge numbers, wrong types, deep nesting. */
const hostile = fc.oneof(
  fc.constantFrom('', ' ', 'a'.repeat(5_000), '\u0000', '\uD800', '\u202E', '2026-02-30', '2026-11-20T08:00:00Z', '99:99', 'Europe/Nowhere', '<script>',
    '=HYPERLINK("x")', '../../etc/passwd', 'NaN', '1e309', '-0', 'true', 'null', '[]', '{}'),
  fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 63, -1, 0, 1e308),
  fc.array(fc.oneof(fc.integer({ min: -10, max: 10 }), fc.string({ maxLength: 5 })), { maxLength: 10 }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('REST', () => {
  test('random JSON bodies on every JSON route: never a 5xx', async () => {
    const ids: Record<string, string | number> = { schools: w.schoolA.id, staff: w.adminA.id };
    const request = fc.record({
      route: fc.nat(),
      fields: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('name', 'email', 'badge', 'kind', 'starts_on', 'ends_on', 'params', 'user_id', 'type', 'occurred_at')), hostile, { maxKeys: 6 }),
      named: fc.array(hostile, { maxLength: 8 }),
      asAdmin: fc.boolean(),
    });
    const failures: string[] = [];
    await fc.assert(fc.asyncProperty(request, async ({ route, fields, named, asAdmin }) => {
      const r = jsonRoutes[route % jsonRoutes.length];
      const body: Record<string, unknown> = { ...fields };
      r.properties.forEach((p, i) => { if (i < named.length) body[p] = named[i]; });
      const url = r.template.replace(/\{(\w+)\}/g, (_m, name: string) => String(name === 'id' ? ids[r.template.split('/')[2]] ?? 1 : 1));
      const res = await http(suite.url, r.method, url, { token: asAdmin ? w.adminA.token : w.backoffice.token, body });
      if (res.status >= 500) failures.push(`${r.method} ${url} ${JSON.stringify(body).slice(0, 300)}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      return res.status < 500;
    }), runs(Math.max(200, Math.round(RUNS / 2))));
    expect(failures).toEqual([]);
  });
});

describe('device input over HTTP', () => {
  test('random bodies posted by a registered PUSH terminal on every table: never a 5xx', async () => {
    const sn = `FZ${Date.now().toString(36).toUpperCase()}`;
    await aUser(suite.db, w.schoolA.id, { badge: '1001' });
    expect((await http(suite.url, 'POST', '/api/push/terminals', { token: w.backoffice.token, body: { serial_number: sn, school_id: w.schoolA.id, name: 'Fuzzed gate' } })).status).toBe(201);
    const terminal = new PushTerminal(suite.url, sn);
    const line = fc.array(fc.oneof(fc.constantFrom('1001', '2026-11-20 08:00:00', '0', '15', 'pin=1001', 'time=2026-11-20 08:00:00', 'temperature=41', 'ID=1', 'Return=0', 'CMD=INFO', '\u0000'), fc.string({ maxLength: 10 })), { maxLength: 14 })
      .map((f) => f.join('\t'));
    const upload = fc.record({
      table: fc.constantFrom('ATTLOG', 'rtlog', 'OPERLOG', 'options', 'ATTPHOTO', 'rtstate', 'tabledata', 'FINGERTMP', ''),
      body: fc.array(line, { maxLength: 12 }).map((l) => l.join('\n')),
    });
    await fc.assert(fc.asyncProperty(upload, async ({ table, body }) => {
      const res = await terminal.upload(table, body);
      return res.status < 500;
    }), runs(Math.max(100, Math.round(RUNS / 5))));
    const results = await terminal.results(['ID=999999&Return=0&CMD=INFO', '\u0000', 'Return=-1']);
    expect(results.status).toBeLessThan(500);
    // What was answered OK is imported by the worker, whatever it held: no session fails or stays pending.
    await suite.worker!.drain();
    const device = await suite.db.selectFrom('devices').select('id').where('serial_number', '=', sn).executeTakeFirstOrThrow();
    const outcomes = await suite.db.selectFrom('sync_sessions').select(['outcome']).where('device_id', '=', device.id).execute();
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.outcome !== 'imported')).toEqual([]);
  });

  test('mutated archives uploaded by a v4 device: refused with a code or imported; no row outside an imported session', async () => {
    const zips = fs.readdirSync(path.resolve('fixtures/archives')).filter((f) => f.endsWith('.zip')).map((f) => fs.readFileSync(path.resolve('fixtures/archives', f)));
    const identity = await aDevice(suite.db, w.schoolA.id);
    const device = await new TestDevice(suite.url, identity).signIn();
    const archive = fc.record({ zip: fc.constantFrom(...zips), edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }) })
      .map(({ zip, edits }) => {
        const bytes = Buffer.from(zip);
        for (const e of edits) bytes[e.at % bytes.length] = e.byte;
        return bytes;
      });
    await fc.assert(fc.asyncProperty(archive, async (bytes) => {
      const up = await device.upload(bytes);
      if (up.status >= 500) return false;
      if (up.status !== 202) return up.status >= 400;
      // Accepted: the sync runs to its end (imported, or failed with a package that says why).
      await device.waitForStatus(2);
      await device.ack(up.body.session_id);
      return true;
    }), runs(Math.max(40, Math.round(RUNS / 30))));
    const strays = await suite.db.selectFrom('attendances as a').leftJoin('sync_sessions as s', 's.id', 'a.session_id')
      .select(['a.record_id', 's.outcome']).where('a.device_id', '=', identity.id).execute();
    // imported, or partial (some files of the batch refused): never a failed or refused one.
    expect(strays.filter((r) => r.outcome !== 'imported' && r.outcome !== 'partial')).toEqual([]);
  });
});

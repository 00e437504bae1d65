// U+0000 (NUL) is valid JSON ("\u0000") and valid in a URL (%00), but PostgreSQL's text cannot
// hold it: such a value used to reach the database and come back as a 500, on sign-in too.
// Swept over every route of the OpenAPI document, so a new route is swept as well: a body or a
// query string holding NUL gets a 400 problem+json, never a 5xx, and changes nothing.
import { beforeAll, expect, test } from '@jest/globals';
import { aDevice, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { aWorld, type World } from '../api/world.js';

const suite = useSuite();
let w: World;
let doc: any;
let ids: Record<string, number | string>;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
  doc = (await http(suite.url, 'GET', '/api/openapi.json')).body;
  const user = await aUser(suite.db, w.schoolA.id);
  const device = await aDevice(suite.db, w.schoolA.id);
  ids = { schools: w.schoolA.id, users: user.id, devices: device.id, staff: w.adminA.id };
});

/** A path of the document with its ids filled by resources of school A where the prefix names them. */
function filled(template: string): string {
  const resource = template.split('/')[2];
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => String(name === 'id' && resource in ids ? ids[resource] : 1));
}

/** A body giving every string property of the operation's JSON schema a value holding NUL. */
function nulBody(op: any): Record<string, unknown> {
  let schema = op.requestBody?.content?.['application/json']?.schema ?? {};
  if (schema.$ref) schema = doc.components.schemas[schema.$ref.split('/').pop()];
  const body: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries<any>(schema.properties ?? {})) {
    if (prop.type === 'string' || prop.anyOf?.some((p: any) => p.type === 'string')) body[name] = `a\u0000b`;
  }
  if (Object.keys(body).length === 0) body.name = 'a\u0000b';
  return body;
}

test('a JSON body holding U+0000 answers 400 on every route that takes one, sign-in included, and stores nothing', async () => {
  const signIn = await http(suite.url, 'POST', '/api/auth/login', { body: { email: 'a\u0000@example.test', password: 'x\u0000' } });
  expect(signIn.status).toBe(400);
  expect(signIn.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(signIn.body.detail).toMatch(/U\+0000/);

  const failures: string[] = [];
  let swept = 0;
  for (const [template, operations] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(operations)) {
      if (!op.requestBody?.content?.['application/json']) continue;
      swept++;
      const res = await http(suite.url, method.toUpperCase(), filled(template), { token: w.backoffice.token, body: nulBody(op) });
      if (res.status !== 400) failures.push(`${method.toUpperCase()} ${template}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  expect(swept).toBeGreaterThan(20);
  expect(failures).toEqual([]);
  const stored = await suite.db.selectFrom('users').select('id').where('school_id', '=', w.schoolA.id).execute();
  expect(stored).toHaveLength(1);
});

test('a query string or path holding %00 answers 400 on every /api GET of the document, and no GET answers 5xx', async () => {
  const failures: string[] = [];
  let swept = 0;
  for (const [template, operations] of Object.entries<any>(doc.paths)) {
    if (!operations.get) continue;
    const names: string[] = (operations.get.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name);
    const urls = [...new Set(['q', ...names])].map((n) => `${filled(template)}?${n}=a%00b`);
    if (template.includes('{')) urls.push(template.replace(/\{\w+\}/g, '1%00'));
    for (const url of urls) {
      swept++;
      const res = await http(suite.url, 'GET', url, { token: w.backoffice.token });
      const expected = url.startsWith('/api/') ? res.status === 400 : res.status < 500;
      if (!expected) failures.push(`GET ${url}: ${res.status}`);
    }
  }
  expect(swept).toBeGreaterThan(50);
  expect(failures).toEqual([]);
  // The users' search reached the database with it before: a school admin's search too.
  const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', w.schoolA.id));
  const search = await http(suite.url, 'GET', '/api/users?q=a%00', { token: admin });
  expect(search.status).toBe(400);
  expect(search.body.detail).toMatch(/U\+0000/);
});

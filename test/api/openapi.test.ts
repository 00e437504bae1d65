// The OpenAPI document lists exactly the routes the express router serves (walked from the
// running app, both ways), with schemas for every body and parameter; /api/docs shows it.
// A device token reaches none of the staff routes it lists.
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import { createApp } from '../../api/app.js';
import { OPERATION_DOCS } from '../../api/http/openapi-docs.js';
import { http } from '../support/http.js';
import { aWorld, type World } from './world.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
let w: World;
let doc: any;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
  const res = await http(suite.url, 'GET', '/api/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  slash?: boolean;
  rawPath?: string;
}

/** Every `METHOD path` the express app routes, nested routers included (express 5: app.router.stack). */
function routerRoutes(app: Express): Set<string> {
  const out = new Set<string>();
  const walk = (stackOf: Layer[], prefix = '') => {
    for (const layer of stackOf) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) if (on) out.add(`${method.toUpperCase()} ${prefix}${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle?.stack) {
        // A router mounted below '/' (the PUSH routes at /iclock): its routes under its prefix.
        walk(layer.handle.stack, layer.slash ? prefix : `${prefix}${layer.rawPath ?? ''}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

function documented(): Set<string> {
  const out = new Set<string>();
  for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const method of Object.keys(ops)) if (METHODS.includes(method)) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

function operations(): Array<{ key: string; path: string; method: string; op: any }> {
  return Object.entries<Record<string, any>>(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, method, op })));
}

describe('the document and the router', () => {
  test('list the same routes, both ways', () => {
    const app = suite.api.app;
    // The PUSH terminals' plain-text /iclock endpoints are a device protocol (docs/protocol/push.md, README), not part of the REST document.
    const routed = new Set([...routerRoutes(app)].filter((r) => !r.split(' ')[1].startsWith('/iclock/')));
    const docs = documented();
    expect(routed.size).toBeGreaterThan(20);
    expect([...routerRoutes(app)].filter((r) => r.split(' ')[1].startsWith('/iclock/'))).toContain('_ALL /iclock/getrequest{.aspx}');
    expect([...routed].filter((r) => !docs.has(r)).sort()).toEqual([]);
    expect([...docs].filter((r) => !routed.has(r)).sort()).toEqual([]);
    for (const route of ['GET /api/schools', 'POST /api/schools', 'GET /api/schools/{id}', 'PUT /api/schools/{id}', 'PATCH /api/schools/{id}', 'DELETE /api/schools/{id}',
      'GET /api/users', 'POST /api/users', 'GET /api/users/{id}', 'PUT /api/users/{id}', 'PATCH /api/users/{id}', 'DELETE /api/users/{id}',
      'GET /api/attendances', 'POST /api/attendances', 'GET /api/attendances/{id}', 'DELETE /api/attendances/{id}', 'GET /api/openapi.json', 'GET /api/docs']) {
      expect(routed).toContain(route);
    }
  });

  test('every route declared in code is documented with a schema for its body, its path parameters and a 2xx answer', () => {
    const { registry } = createApp(suite.api.ctx);
    const ops = new Map(operations().map((o) => [o.key, o.op]));
    for (const route of registry.routes) {
      const key = `${route.method.toUpperCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`;
      const op = ops.get(key);
      expect({ key, documented: Boolean(op) }).toEqual({ key, documented: true });
      if (route.body || route.requestBody) {
        const content = Object.values<{ schema?: Record<string, unknown> }>(op.requestBody?.content ?? {});
        expect({ key, bodySchemas: content.map((c) => Boolean(c.schema && Object.keys(c.schema).length > 0)) }).toEqual({ key, bodySchemas: [true] });
      }
    }
    for (const { key, method, path, op } of operations()) {
      // PUT and PATCH always take a body: one without a schema would be taken unvalidated.
      if (method === 'put' || method === 'patch') expect({ key, requestBody: Boolean(op.requestBody) }).toEqual({ key, requestBody: true });
      const success = Object.keys(op.responses ?? {}).filter((s) => /^2\d\d$/.test(s));
      expect({ key, success: success.length > 0 }).toEqual({ key, success: true });
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string }) => p.name).sort();
      expect({ key, pathParams: declared }).toEqual({ key, pathParams });
      if (op.security) expect(Object.keys(op.responses)).toContain('401');
    }
  });

  test('is OpenAPI 3.1 with unique operation ids and every $ref resolvable', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref.startsWith('#/')).toBe(true);
      const target = ref.slice(2).split('/').reduce<any>((node, part) => node?.[part], doc);
      expect({ ref, resolves: target !== undefined }).toEqual({ ref, resolves: true });
    }
  });

  test('documents the filters, the paging and the Idempotency-Key header', () => {
    const names = (path: string, method: string) => doc.paths[path][method].parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(names('/api/users', 'get')).toEqual(expect.arrayContaining(['query:limit', 'query:cursor', 'query:school_id', 'query:q', 'query:include_deleted']));
    expect(names('/api/attendances', 'get')).toEqual(expect.arrayContaining(['query:school_id', 'query:user_id', 'query:from', 'query:to', 'query:type', 'query:limit', 'query:cursor']));
    expect(names('/api/attendances', 'post')).toContain('header:Idempotency-Key');
    const limit = doc.paths['/api/users'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ default: 50, maximum: 500 });
    const body = doc.paths['/api/attendances'].post.requestBody.content['application/json'].schema;
    expect(body.required.sort()).toEqual(['occurred_at', 'type', 'user_id']);
    expect(body.properties.temperature.anyOf).toEqual([{ type: 'number', minimum: 28, maximum: 43 }, { type: 'null' }]);
    expect(doc.paths['/api/schools/{id}'].put.requestBody.content['application/json'].schema.required.sort())
      .toEqual(['day_end', 'fever_threshold', 'name', 'school_days', 'timezone']);
  });
});

describe('descriptions and examples', () => {
  test('the document says how to get a staff token and a device token', () => {
    expect(doc.info.description).toContain('POST /api/auth/login');
    expect(doc.info.description).toContain('POST /v4/auth/token');
    expect(doc.info.description).toContain('POST /api/devices');
  });

  test('every operation has a description, and every JSON body an example its own schema accepts', () => {
    const { registry } = createApp(suite.api.ctx);
    const ops = new Map(operations().map((o) => [o.key, o.op]));
    for (const route of registry.routes) {
      const key = `${route.method.toUpperCase()} ${route.path.replace(/:(\w+)/g, '{$1}')}`;
      const op = ops.get(key);
      expect({ key, description: typeof op.description === 'string' && op.description.length > 10 }).toEqual({ key, description: true });
      if (route.body) {
        const example = op.requestBody.content['application/json'].example;
        expect({ key, example: example !== undefined }).toEqual({ key, example: true });
        const parsed = route.body.safeParse(example);
        expect({ key, valid: parsed.success, issues: parsed.success ? [] : parsed.error.issues }).toEqual({ key, valid: true, issues: [] });
      }
      // Response examples, where a schema says what the route answers, must fit it too.
      for (const [status, response] of Object.entries(route.responses)) {
        const example = (op.responses[status]?.content?.[response.contentType ?? 'application/json'] as { example?: unknown } | undefined)?.example;
        if (example === undefined || !response.schema) continue;
        const parsed = response.schema.safeParse(example);
        expect({ key, status, valid: parsed.success, issues: parsed.success ? [] : parsed.error.issues }).toEqual({ key, status, valid: true, issues: [] });
      }
    }
    // No prose left behind for an operation that is gone.
    for (const key of Object.keys(OPERATION_DOCS)) expect({ key, exists: ops.has(key) }).toEqual({ key, exists: true });
    // The main answers of the device protocol and of signing in have examples.
    expect(doc.paths['/api/auth/login'].post.responses['200'].content['application/json'].example).toMatchObject({ token_type: 'Bearer' });
    expect(doc.paths['/v4/{channel}/datas'].post.responses['202'].content['application/json'].example).toMatchObject({ status: 1 });
    expect(doc.paths['/v4/{channel}/status'].get.responses['200'].content['application/json'].example).toMatchObject({ status: 2 });
  });
});

describe('/api/docs', () => {
  test('serves a page that loads Swagger UI and points it at /api/openapi.json, with every asset it names', async () => {
    const page = await http(suite.url, 'GET', '/api/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const assets = [...String(page.body).matchAll(/(?:src|href)="(\/api\/docs\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(expect.arrayContaining(['/api/docs/swagger-ui.css', '/api/docs/swagger-ui-bundle.js', '/api/docs/init.js']));
    for (const asset of assets) {
      const res = await fetch(`${suite.url}${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const bundle = await fetch(`${suite.url}/api/docs/swagger-ui-bundle.js`);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect(await bundle.text()).toContain('SwaggerUIBundle');
    const init = await http(suite.url, 'GET', '/api/docs/init.js');
    expect(init.body).toContain("url: '/api/openapi.json'");
  });

  test('an asset it does not serve is a 404, and no file outside the package is reachable', async () => {
    for (const path of ['/api/docs/package.json', '/api/docs/..%2F..%2Fpackage.json', '/api/docs/constructor', '/api/docs/%2e%2e']) {
      const res = await http(suite.url, 'GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
  });
});

describe('device tokens', () => {
  test('reach no /api route the document lists as staff-only, and neither does an anonymous caller', async () => {
    const staffOps = operations().filter((o) => o.path.startsWith('/api/') && o.op.security?.some((s: Record<string, unknown>) => 'staffToken' in s));
    expect(staffOps.length).toBeGreaterThan(15);
    for (const { key, path, method } of staffOps) {
      const url = path.replace(/\{id\}/g, String(w.schoolA.id)).replace(/\{\w+\}/g, '1');
      for (const token of [w.device, undefined]) {
        const res = await http(suite.url, method.toUpperCase(), url, { token, body: ['post', 'put', 'patch'].includes(method) ? {} : undefined });
        expect({ key, token: token ? 'device' : 'none', status: res.status }).toEqual({ key, token: token ? 'device' : 'none', status: 401 });
      }
    }
  });
});

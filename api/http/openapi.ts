// The OpenAPI 3.1 document, generated from the same route declarations and zod schemas
// that validate requests, so the document cannot drift from the router.
import { z, type ZodType } from 'zod';
import { PROBLEM_EXAMPLES, type OperationDoc } from './openapi-docs.js';
import { PUT_SEMANTICS, type AnyRoute } from './route.js';

type JsonSchema = Record<string, unknown>;

/**
 * Named schemas (`.meta({ id })`) shared by every operation. z.toJSONSchema puts them in a
 * local `$defs` and points at `#/$defs/X`, which inside an OpenAPI document resolves against
 * the document root and breaks; they are moved to `components.schemas` instead.
 */
type Components = Record<string, JsonSchema>;

function toSchema(schema: ZodType, io: 'input' | 'output', components: Components): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  // An id whose input shape differs from its output shape (defaults, transforms) gets a suffixed name.
  const names = new Map<string, string>();
  for (const [id, def] of Object.entries(defs)) {
    const existing = components[id];
    names.set(id, existing === undefined || JSON.stringify(existing) === JSON.stringify(def) ? id : `${id}_${io}`);
  }
  const rewrite = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value), (key, v) =>
      key === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? `#/components/schemas/${names.get(v.slice(8)) ?? v.slice(8)}` : v);
  for (const [id, def] of Object.entries(defs)) components[names.get(id)!] ??= rewrite(def) as JsonSchema;
  return rewrite(json) as JsonSchema;
}

const PATCH_SEMANTICS = 'PATCH changes the fields given and keeps the others; an empty body changes nothing.';

/** The route's own description, after the rule every PUT (or PATCH) follows. */
function description(route: AnyRoute): string | undefined {
  const rule = route.method === 'put' ? PUT_SEMANTICS : route.method === 'patch' ? PATCH_SEMANTICS : undefined;
  return [rule, route.description].filter(Boolean).join('\n\n') || undefined;
}

export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function parameters(route: AnyRoute, components: Components): unknown[] {
  const out: unknown[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query], ['header', route.headers]] as const) {
    if (!schema) continue;
    const json = toSchema(schema, 'input', components);
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: prop });
    }
  }
  return out;
}

const WHO: Record<AnyRoute['auth'], string> = {
  none: 'No token needed.',
  staff: 'Needs a staff token (`staffToken`): backoffice, or a school admin within their own school.',
  backoffice: 'Needs a backoffice staff token (`staffToken`).',
  device: 'Needs a device token (`deviceToken`, from `POST /v4/auth/token`).',
};

/** `content` of a response or request body, with its example when there is one. */
function withExample(content: Record<string, Record<string, unknown>>, example: unknown): Record<string, Record<string, unknown>> {
  if (example === undefined) return content;
  return Object.fromEntries(Object.entries(content).map(([type, media]) => [type, { ...media, example }]));
}

export function buildOpenApi(routes: AnyRoute[], info: { title: string; version: string; description?: string }, docs: Record<string, OperationDoc> = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Components = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const doc = docs[`${route.method.toUpperCase()} ${path}`] ?? {};
    const examples = doc.responses ?? {};
    const operation: Record<string, unknown> = {
      summary: route.summary,
      description: [description(route), doc.description, WHO[route.auth]].filter(Boolean).join('\n\n'),
      tags: route.tags,
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: parameters(route, components),
      responses: Object.fromEntries(Object.entries(route.responses).map(([status, r]) => [
        status,
        r.schema
          ? { description: r.description, content: withExample({ [r.contentType ?? 'application/json']: { schema: toSchema(r.schema, 'output', components) } },
            examples[Number(status)] ?? (r.contentType === 'application/problem+json' ? PROBLEM_EXAMPLES[Number(status)] : undefined)) }
          : r.contentType
            ? { description: r.description, content: withExample({ [r.contentType]: {} }, examples[Number(status)]) }
            : { description: r.description },
      ])),
    };
    if (route.auth !== 'none') operation.security = [{ [route.auth === 'device' ? 'deviceToken' : 'staffToken']: [] }];
    if (route.body) operation.requestBody = { required: true, content: withExample({ 'application/json': { schema: toSchema(route.body, 'input', components) } }, doc.body) };
    if (route.requestBody) {
      operation.requestBody = { required: true, description: route.requestBody.description, content: { [route.requestBody.contentType]: { schema: toSchema(route.requestBody.schema, 'input', components) } } };
    }
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        staffToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'POST /api/auth/login' },
        deviceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'POST /v4/auth/token' },
      },
    },
  };
}

// The OpenAPI 3.1 document, generated from the same route declarations and zod schemas
// that validate requests, so the document cannot drift from the router.
import { z, type ZodType } from 'zod';
import type { AnyRoute } from './route.js';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function parameters(route: AnyRoute): unknown[] {
  const out: unknown[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query], ['header', route.headers]] as const) {
    if (!schema) continue;
    const json = toSchema(schema, 'input');
    const props = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema: prop });
    }
  }
  return out;
}

export function buildOpenApi(routes: AnyRoute[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: route.tags,
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: parameters(route),
      responses: Object.fromEntries(Object.entries(route.responses).map(([status, doc]) => [
        status,
        doc.schema
          ? { description: doc.description, content: { [doc.contentType ?? 'application/json']: { schema: toSchema(doc.schema, 'output') } } }
          : doc.contentType
            ? { description: doc.description, content: { [doc.contentType]: {} } }
            : { description: doc.description },
      ])),
    };
    if (route.auth !== 'none') operation.security = [{ [route.auth === 'device' ? 'deviceToken' : 'staffToken']: [] }];
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    if (route.requestBody) {
      operation.requestBody = { required: true, description: route.requestBody.description, content: { [route.requestBody.contentType]: { schema: toSchema(route.requestBody.schema, 'input') } } };
    }
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        staffToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'POST /api/auth/login' },
        deviceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'POST /v4/auth/token' },
      },
    },
  };
}

// The device protocol's GET calls (status, manifest, instructions: four of a sync's six
// requests) answered by a plain node:http handler ahead of express, like /iclock
// (api/server.ts). They are the same RouteRegistry declarations, run by the same runRoute
// (authentication, zod validation, handler), answered with the same bodies, headers, weak ETag
// and problem+json errors, counted in http_request_duration_seconds under the declared route and
// logged by the request log's rule; what they skip is express's per-request machinery (request
// and response setup, the walk through every route's matcher, body parsers, pino-http's child
// logger), which with the metrics and the request log was ~30 % of the api's CPU per sync in
// the fleet bench (issue #21). Only the exact lowercase paths are taken, without `%`-escapes;
// anything else (HEAD, a trailing slash, other cases) goes to express, which answers as before.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import querystring from 'node:querystring';
import type { Request } from 'express';
import type { AppContext } from '../context/context.js';
import { observeRequest } from './metrics.js';
import { authenticate, type Auth } from './authenticate.js';
import { problemOf } from './problem-middleware.js';
import { logRequest } from './request-log.js';
import { runRoute, type AnyRoute, type Reply, type RouteRegistry } from './route.js';

const DEVICE_PATH = /^\/v4\/([A-Za-z0-9_-]+)\/([a-z]+)$/;

/** Express's default weak ETag (the `etag` package's format): W/"<length hex>-<sha1 base64, 27 chars>". */
function weakEtag(body: Buffer): string {
  return `W/"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64').slice(0, 27)}"`;
}

/** As express's `req.fresh` for a GET: If-None-Match names this ETag (weak comparison) or is `*`. */
function fresh(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header || /(?:^|,)\s*no-cache\s*(?:,|$)/.test(String(req.headers['cache-control'] ?? ''))) return false;
  if (header.trim() === '*') return true;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => bare(tag) === bare(etag));
}

function write(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | null, contentType?: string): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === null) {
    res.writeHead(status).end();
    return;
  }
  if (!res.hasHeader('ETag')) res.setHeader('ETag', weakEtag(body));
  if (status >= 200 && status < 300 && fresh(req, String(res.getHeader('ETag')))) {
    for (const name of ['Content-Type', 'Content-Length', 'Transfer-Encoding']) res.removeHeader(name);
    res.writeHead(304).end();
    return;
  }
  if (contentType) res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', body.length);
  res.writeHead(status).end(body);
}

function sendReply(req: IncomingMessage, res: ServerResponse, out: Reply): void {
  const headers = out.headers ?? {};
  if (out.raw !== undefined) {
    const raw = typeof out.raw === 'string' ? Buffer.from(out.raw) : out.raw;
    const type = out.contentType ?? 'application/octet-stream';
    write(req, res, out.status, headers, raw, typeof out.raw === 'string' ? `${type}; charset=utf-8` : type);
  } else if (out.body === undefined || out.status === 204 || out.status === 304) {
    write(req, res, out.status, headers, null);
  } else {
    write(req, res, out.status, headers, Buffer.from(JSON.stringify(out.body)), 'application/json; charset=utf-8');
  }
}

/** `(req, res) => true` when it took the request; false to leave it to express. */
export function deviceRoutes(registry: RouteRegistry, ctx: AppContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  const table = new Map<string, AnyRoute>();
  for (const route of registry.routes) {
    const op = /^\/v4\/:channel\/([a-z]+)$/.exec(route.path)?.[1];
    if (op && route.method === 'get' && route.auth === 'device' && !route.middleware?.length) table.set(op, route);
  }
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const match = DEVICE_PATH.exec(path);
    const route = match && table.get(match[2]);
    if (!match || !route) return false;
    void serve(route, ctx, req, res, path, { channel: match[1] }, q < 0 ? {} : querystring.parse(url.slice(q + 1)));
    return true;
  };
}

async function serve(route: AnyRoute, ctx: AppContext, req: IncomingMessage, res: ServerResponse, path: string, params: Record<string, string>, query: unknown): Promise<void> {
  const started = performance.now();
  let failure: unknown;
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    const seconds = (performance.now() - started) / 1000;
    const status = res.headersSent ? res.statusCode : 499; // closed by the client before an answer
    observeRequest('GET', route.path, String(status), seconds);
    logRequest(ctx.logger, ctx.config, { method: 'GET', path, status: res.statusCode, ms: seconds * 1000, err: failure });
  };
  res.once('finish', record);
  res.once('close', record);
  // Handlers reach the response through the request, as with express (the status wait watches it close).
  const request = Object.assign(req, { res }) as unknown as Request;
  try {
    const auth: Auth = await authenticate(ctx, request, route.auth);
    const out = await runRoute(route, ctx, request, auth, {
      params, query, body: undefined, header: (name) => {
        const value = req.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : value;
      },
    });
    sendReply(req, res, out);
  } catch (err) {
    const problem = problemOf(err, ctx, ctx.logger);
    if (problem.status >= 500) failure = err;
    if (res.headersSent) {
      res.end();
      return;
    }
    const headers: Record<string, string> = { ...problem.headers };
    if (!req.complete) headers.Connection = 'close';
    write(req, res, problem.status, headers, Buffer.from(JSON.stringify(problem.toJSON())), 'application/problem+json; charset=utf-8');
  }
}

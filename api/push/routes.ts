// The PUSH (iclock) endpoints (docs/protocol/push.md) on the express app, ahead of everything
// else (api/app.ts): the route declarations of api/push/*.ts mounted under /iclock, each call
// taken the same way: counted (attendance_push_calls_total), limited per serial number, its
// caller looked up before its body is read (api/push/body.ts), then its route's answer, in plain
// text, written by one writer (sendAnswer). Not in http_request_duration_seconds nor the request
// log: a fleet of terminals polls every few seconds, and the calls have their own counter.
// Paths match without case and with or without `.aspx` or a trailing slash (express's
// non-strict, case-insensitive routing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Router } from 'express';
import proxyaddr from 'proxy-addr';
import { isSerialNumber } from '../../shared/protocol/push.js';
import type { AppContext } from '../context/context.js';
import { InFlightBudget } from '../http/in-flight-budget.js';
import { observePushCall } from '../http/metrics.js';
import { EMPTY, PushAnswer, sendAnswer, type PushRequest } from './answer.js';
import { bodyLimit, readBody } from './body.js';
import { commandResultRoutes } from './devicecmd.js';
import { pollRoutes } from './getrequest.js';
import { optionRoutes } from './options.js';
import { queryDataRoutes } from './querydata.js';
import { SerialRateLimiter } from './rate-limit.js';
import { registryRoutes } from './registry.js';
import { PushRoutes, type PushDeps, type PushRoute } from './route.js';
import { TerminalAccess, tokenOf } from './terminal-access.js';
import { uploadRoutes } from './upload.js';

/** Every /iclock route; the poll first, the call every terminal makes every few seconds (its matcher is tried first). */
export function buildPushRoutes(): PushRoutes {
  const push = new PushRoutes();
  pollRoutes(push);
  optionRoutes(push);
  uploadRoutes(push);
  commandResultRoutes(push);
  registryRoutes(push);
  queryDataRoutes(push);
  return push;
}

/** TRUST_PROXY read as express reads its `trust proxy` setting (the same package decides). */
function trustOf(setting: false | number | string[]): ((addr: string, i: number) => boolean) | null {
  if (setting === false) return null;
  if (typeof setting === 'number') return (_addr, i) => i < setting;
  return proxyaddr.compile(setting);
}

interface PushLocals {
  pushQuery: URLSearchParams;
  pushPath?: string;
}

/** The router mounted at /iclock (api/app.ts). */
export function iclockRouter(ctx: AppContext): Router {
  const { logger } = ctx;
  const deps: PushDeps = { ctx, access: new TerminalAccess(ctx) };
  const trust = trustOf(ctx.config.trustProxy);
  const budget = new InFlightBudget(ctx.config.pushMaxInFlightBytes);
  const limiter = new SerialRateLimiter(ctx.config.pushRatePerSecond, ctx.config.pushRateBurst);

  const addressOf = (req: IncomingMessage): string | null => {
    let address = req.socket.remoteAddress ?? null;
    if (trust) {
      try {
        address = proxyaddr(req, trust);
      } catch {
        // A malformed X-Forwarded-For: the socket's address stands.
      }
    }
    return address?.startsWith('::ffff:') ? address.slice(7) : address;
  };

  const answer = async (route: PushRoute, req: PushRequest, res: ServerResponse) => {
    try {
      sendAnswer(res, await route.handler(req, deps));
    } catch (err) {
      if (err instanceof PushAnswer) return sendAnswer(res, err);
      logger.error({ err, path: route.path }, 'push: request failed; nothing stored');
      if (!res.headersSent) sendAnswer(res, new PushAnswer(500, 'ERROR'));
    }
  };

  /** A call that may carry a body: the caller looked up first, then as much read as it may send. */
  const receive = async (route: PushRoute, req: IncomingMessage, res: ServerResponse, call: { query: URLSearchParams; address: string | null; token: string | null }) => {
    let caller;
    try {
      caller = await deps.access.callerOf(call.query.get('SN') ?? call.query.get('sn'), call.address, call.token);
    } catch (err) {
      logger.error({ err, path: route.path }, 'push: caller not looked up; nothing read');
      return sendAnswer(res, new PushAnswer(503, 'SERVER BUSY', { Connection: 'close', 'Retry-After': String(ctx.config.importRetryAfterSeconds) }));
    }
    if (caller === 'bad_sn') return sendAnswer(res, new PushAnswer(400, 'BAD SN', { Connection: 'close' }));
    const limit = bodyLimit(route.path, call.query.get('table') ?? '', caller);
    const read = await readBody(req, res, { limit, timeoutMs: ctx.config.pushBodyTimeoutSeconds * 1000, budget, retryAfterSeconds: ctx.config.importRetryAfterSeconds });
    if (!read.ok) return sendAnswer(res, new PushAnswer(read.status, read.text, read.headers));
    // Refused unread: the route gives its refusal (and records the contact), and the rest of the body is not waited for.
    if (limit === 0 && req.headers['content-length'] !== '0') res.setHeader('Connection', 'close');
    await answer(route, { query: call.query, body: read.body, address: call.address, token: call.token }, res);
  };

  /** One path's routes by method (GET also answers HEAD; '*' any other). */
  const take = (path: string, methods: Map<string, PushRoute>) => (req: express.Request, res: express.Response): void => {
    const locals = res.locals as PushLocals;
    const { pushQuery: query } = locals;
    locals.pushPath = path;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = methods.get(method) ?? methods.get('*');
    if (!route) {
      req.resume();
      sendAnswer(res, new PushAnswer(405, 'METHOD NOT ALLOWED'));
      return;
    }
    const address = addressOf(req);
    // Calls per serial number (issue #33 §4): past the bucket, come back later; nothing read or written.
    const sn = query.get('SN') ?? query.get('sn');
    if (isSerialNumber(sn)) {
      const wait = limiter.take(sn);
      if (wait > 0) {
        if (method === 'GET') req.resume();
        sendAnswer(res, new PushAnswer(503, 'SERVER BUSY', { 'Retry-After': String(wait), ...(method !== 'GET' && { Connection: 'close' }) }));
        return;
      }
    }
    const token = tokenOf(req.headers.cookie);
    if (method === 'GET') {
      req.resume();
      void answer(route, { query, body: EMPTY, address, token }, res);
      return;
    }
    // Terminals send text under any content type; the body is read as raw bytes, decoded as UTF-8,
    // once the caller is known to be allowed to send it (api/push/body.ts).
    void receive(route, req, res, { query, address, token });
  };

  const router = express.Router();
  // Counted once its answer is sent, whichever route or refusal sent it (an unknown path as "other").
  router.use((req, res, next) => {
    // `/iclock` itself is no PUSH path: the REST API's 404.
    if (!/^\/iclock\//i.test(req.originalUrl)) return next('router');
    const url = req.url;
    const q = url.indexOf('?');
    const locals = res.locals as PushLocals;
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    locals.pushQuery = query;
    res.once('finish', () => observePushCall(locals.pushPath ?? 'other', query.get('table'), res.statusCode));
    next();
  });
  const byPath = new Map<string, Map<string, PushRoute>>();
  for (const route of buildPushRoutes().routes) {
    const methods = byPath.get(route.path) ?? new Map<string, PushRoute>();
    if (!methods.has(route.method)) methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  for (const [path, methods] of byPath) router.all(`/${path}{.aspx}`, take(path, methods));
  // Any other path under /iclock/: the protocol's plain-text 404, never the REST API's problem+json.
  router.use((req, res) => {
    req.resume();
    sendAnswer(res, new PushAnswer(404, 'NOT FOUND'));
  });
  return router;
}

// One way to declare an endpoint: method, path, who may call it, zod schemas for params,
// query and body, and a handler that returns a Reply. The wrapper validates before any
// database call, runs writes in one transaction and answers only after the commit
// (central-backend's endpoint.js), and the same declarations produce the OpenAPI document.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { z, type ZodType } from 'zod';
import type { Db, DbOrTrx, Trx } from '../../db/database.js';
import { Problem, validationFailed } from '../../shared/errors.js';
import type { AppContext } from '../context/context.js';
import { authenticate, type Auth, type AuthRequirement, type AuthFor } from './authenticate.js';
import { refuseNul } from './nul-character.js';
import { isDatabaseUnavailable } from './pg-errors.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Reply {
  status: number;
  body?: unknown;
  /** Bytes sent as they are (zip packages, CSV, photos). */
  raw?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

export const reply = {
  ok: (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers }),
  created: (body: unknown, headers?: Record<string, string>): Reply => ({ status: 201, body, headers }),
  accepted: (body: unknown, headers?: Record<string, string>): Reply => ({ status: 202, body, headers }),
  noContent: (): Reply => ({ status: 204 }),
  notModified: (headers?: Record<string, string>): Reply => ({ status: 304, headers }),
  raw: (raw: Buffer | string, contentType: string, headers?: Record<string, string>): Reply => ({ status: 200, raw, contentType, headers }),
  status: (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers }),
};

export interface ResponseDoc {
  description: string;
  schema?: ZodType;
  contentType?: string;
}

type Infer<T> = T extends ZodType ? z.output<T> : undefined;

/**
 * What a handler gets as `db`: the request's transaction (`Trx`) when the route runs in one
 * (`transaction: true`, or any method but GET by default), the pool (`Db`) when it is read-only.
 */
export type DbFor<M extends HttpMethod, T extends boolean | undefined> = T extends true ? Trx : T extends false ? Db : M extends 'get' ? Db : Trx;

export interface HandlerInput<P, Q, B, A extends AuthRequirement, H = undefined, D extends DbOrTrx = DbOrTrx> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  /** Request headers named by the route's `headers` schema (keys as written there). */
  headers: Infer<H>;
  auth: AuthFor<A>;
  /** The request's transaction for writes, the pool for reads (DbFor). */
  db: D;
  ctx: AppContext;
  req: Request;
  /**
   * Calls `listener` if the caller hangs up before the answer is written (a status wait stops
   * waiting); returns what stops listening.
   */
  onHangUp(listener: () => void): () => void;
}

export interface RouteSpec<
  P extends ZodType | undefined, Q extends ZodType | undefined, B extends ZodType | undefined, A extends AuthRequirement,
  H extends ZodType | undefined = undefined, M extends HttpMethod = HttpMethod, T extends boolean | undefined = undefined,
> {
  method: M;
  /** Express path, e.g. `/api/users/:id`. */
  path: string;
  summary: string;
  /** Longer text for the OpenAPI document (CommonMark). */
  description?: string;
  tags: string[];
  auth: A;
  params?: P;
  query?: Q;
  body?: B;
  /** A z.object of request headers, e.g. `Idempotency-Key`; matched case-insensitively, documented as header parameters. */
  headers?: H;
  /** Documented for OpenAPI; the handler's Reply decides what is sent. */
  responses: Record<number, ResponseDoc>;
  /** Defaults to true for every method but GET; decides the handler's `db` type (DbFor). */
  transaction?: T;
  /** Runs before validation, e.g. multer for uploads. */
  middleware?: RequestHandler[];
  /** A body that is not JSON (multipart): documented as given, not validated by `body`. */
  requestBody?: { contentType: string; schema: ZodType; description?: string };
  handler(input: HandlerInput<P, Q, B, A, H, DbFor<M, T>>): Promise<Reply>;
}

export type AnyRoute = RouteSpec<ZodType | undefined, ZodType | undefined, ZodType | undefined, AuthRequirement, ZodType | undefined, HttpMethod, boolean | undefined>;

/** The headers a `headers` schema names, read case-insensitively. */
function headerValues(schema: ZodType | undefined, header: (name: string) => string | undefined): Record<string, unknown> {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape ?? {};
  return Object.fromEntries(Object.keys(shape).map((name) => [name, header(name)]));
}

function parsePart(schema: ZodType | undefined, value: unknown, part: 'params' | 'query' | 'body' | 'headers'): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (result.success) return result.data;
  // An unknown channel in /v4/:channel/… is a missing resource, not a bad field.
  if (part === 'params' && result.error.issues.some((i) => i.path[0] === 'channel')) throw new Problem('unknown_channel', 'No such channel');
  throw validationFailed(result.error.issues.map((issue) => ({
    field: [part, ...issue.path.map(String)].join('.'),
    message: issue.message,
  })));
}

/** What every PUT's OpenAPI description and 422 say: one rule for all of them. */
export const PUT_SEMANTICS = 'PUT replaces the whole resource: every editable field is required, and a request missing any is '
  + 'answered 422 naming them (`missing_fields`). To change some fields only, use PATCH.';

/**
 * A PUT body: a request that leaves out fields gets a 422 saying that PUT replaces the whole
 * resource and naming every missing field, instead of one "required" per field.
 */
function parseReplacement(schema: ZodType | undefined, value: unknown): unknown {
  try {
    return parsePart(schema, value, 'body');
  } catch (err) {
    const shape = (schema as { shape?: Record<string, ZodType> } | undefined)?.shape;
    if (!(err instanceof Problem) || !shape) throw err;
    const given = value !== null && typeof value === 'object' ? value as Record<string, unknown> : {};
    const missing = Object.keys(shape).filter((name) => given[name] === undefined && !shape[name].safeParse(undefined).success);
    if (missing.length === 0) throw err;
    throw new Problem('validation_failed', `${PUT_SEMANTICS} Missing: ${missing.join(', ')}.`, { ...err.extra, missing_fields: missing });
  }
}

/**
 * The one reply writer: every declared route's Reply is written here (express's res.send gives
 * the Content-Type, Content-Length, the weak ETag and the 304 when If-None-Match names it), and
 * every error by problemMiddleware (api/http/problem-middleware.ts).
 */
export function send(res: Response, out: Reply): void {
  res.status(out.status);
  for (const [name, value] of Object.entries(out.headers ?? {})) res.setHeader(name, value);
  if (out.raw !== undefined) {
    res.type(out.contentType ?? 'application/octet-stream').send(out.raw);
  } else if (out.body === undefined || out.status === 204 || out.status === 304) {
    res.end();
  } else {
    res.json(out.body);
  }
}

/** Collects route declarations; `mount` puts them on a router, `routes` feeds the OpenAPI document. */
export class RouteRegistry {
  readonly routes: AnyRoute[] = [];

  add<
    P extends ZodType | undefined, Q extends ZodType | undefined, B extends ZodType | undefined, A extends AuthRequirement,
    H extends ZodType | undefined = undefined, M extends HttpMethod = HttpMethod, T extends boolean | undefined = undefined,
  >(spec: RouteSpec<P, Q, B, A, H, M, T>): void {
    this.routes.push(spec as unknown as AnyRoute);
  }

  /**
   * Puts every route on `router`. The device protocol's routes (`/v4/…`, four of a sync's six
   * requests) come first, so that express's walk through the route matchers is short for them;
   * no other route's path can match theirs, so the order changes no answer. A JSON body is parsed
   * only where a body may come (every method but GET), before the caller is known, as it always was.
   */
  mount(router: Router, ctx: AppContext): void {
    const json = express.json({ limit: '1mb', reviver: refuseNul });
    const ordered = [...this.routes.filter(isDeviceProtocol), ...this.routes.filter((r) => !isDeviceProtocol(r))];
    for (const route of ordered) {
      const body = route.method === 'get' ? [] : [json];
      router[route.method](route.path, ...body, authenticateFirst(route, ctx), ...(route.middleware ?? []), handle(route, ctx));
    }
  }
}

function isDeviceProtocol(route: AnyRoute): boolean {
  return route.path.startsWith('/v4/');
}

/**
 * The caller is known before any middleware reads the body: a client without a valid token
 * gets its 401 before an upload's 50 MB are received (multer would buffer them first).
 */
function authenticateFirst(route: AnyRoute, ctx: AppContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.auth = await authenticate(ctx, req, route.auth);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** What a route's handler is called with before validation: the raw parts of the request. */
export interface RawInput {
  params: unknown;
  query: unknown;
  body: unknown;
  /** A request header by name (case-insensitive). */
  header: (name: string) => string | undefined;
}

/** Validates the raw parts and runs the handler, in a transaction when the route writes. */
export async function runRoute(route: AnyRoute, ctx: AppContext, req: Request, res: Response, auth: Auth, raw: RawInput): Promise<Reply> {
  const useTransaction = route.transaction ?? route.method !== 'get';
  const params = parsePart(route.params, raw.params, 'params');
  const query = parsePart(route.query, raw.query, 'query');
  const body = route.method === 'put' ? parseReplacement(route.body, raw.body) : parsePart(route.body, raw.body, 'body');
  const headers = parsePart(route.headers, headerValues(route.headers, raw.header), 'headers');
  const run = (db: DbOrTrx) =>
    route.handler({ params, query, body, headers, auth, db, ctx, req, onHangUp: (listener) => onHangUp(res, listener) } as HandlerInput<never, never, never, AuthRequirement, never, never>);
  if (useTransaction) return ctx.db.transaction().execute(run);
  // Staff reads may be served by a read replica (api/context/replica.ts); a device's never are:
  // the protocol's reads are its own writes' (status, manifest, package).
  if (route.method !== 'get' || isDeviceProtocol(route) || route.path === '/healthz') return run(ctx.db);
  return ctx.replica.read(run, { isAnswer: isProblem, isUnavailable: isDatabaseUnavailable });
}

/** The response closing before it was written: the caller hung up. */
function onHangUp(res: Response, listener: () => void): () => void {
  const closed = () => {
    if (!res.writableFinished) listener();
  };
  res.once('close', closed);
  return () => res.off('close', closed);
}

function handle(route: AnyRoute, ctx: AppContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const out = await runRoute(route, ctx, req, res, res.locals.auth as Auth, { params: req.params, query: req.query, body: req.body, header: (name) => req.get(name) });
      send(res, out);
    } catch (err) {
      next(err);
    }
  };
}

export function isProblem(err: unknown): err is Problem {
  return err instanceof Problem;
}

// The express application, the api's one HTTP path: every REST and device-protocol route is
// declared through the RouteRegistry (so the OpenAPI document lists exactly what the router
// serves), every PUSH route through api/push/routes.ts; each answer is written by one writer
// (api/http/route.ts send, problem-middleware.ts for errors, api/push/answer.ts for /iclock).
import express, { type Express } from 'express';
import type { AppContext } from './context/context.js';
import { dashboardStatic } from './dashboard.js';
import { MOBILE_APP_PATH, mobileAppStatic } from './mobile-app.js';
import { buildOpenApi } from './http/openapi.js';
import { API_DESCRIPTION, OPERATION_DOCS } from './http/openapi-docs.js';
import { notFoundHandler, problemMiddleware } from './http/problem-middleware.js';
import { refuseNulInUrl } from './http/nul-character.js';
import { requestIds, requestLog } from './http/request-log.js';
import { httpMetrics } from './http/metrics.js';
import { RouteRegistry, reply } from './http/route.js';
import { alertRoutes } from './routes/alerts.js';
import { authRoutes } from './routes/auth.js';
import { attendanceRoutes } from './routes/attendances.js';
import { datamartRoutes } from './routes/datamart.js';
import { deviceRoutes } from './routes/devices.js';
import { docsRoutes } from './routes/docs.js';
import { flagRoutes } from './routes/flags.js';
import { auditRoutes } from './routes/audit.js';
import { calendarRoutes } from './routes/calendars.js';
import { presenceRoutes } from './routes/presence.js';
import { figureRoutes } from './routes/figures.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { photoRoutes } from './routes/photos.js';
import { markRoutes } from './routes/marks.js';
import { heldPunchRoutes } from './routes/held-punches.js';
import { pushTerminalRoutes } from './routes/push-terminals.js';
import { schoolRoutes } from './routes/schools.js';
import { sessionRoutes } from './routes/sessions.js';
import { staffRoutes } from './routes/staff.js';
import { syncRoutes } from './routes/sync.js';
import { userRoutes } from './routes/users.js';
import { InFlightBudget } from './http/in-flight-budget.js';
import { iclockRouter } from './push/routes.js';
import type { UploadLimits } from './sync/upload.js';

export function buildRegistry(opts: UploadLimits): RouteRegistry {
  const api = new RouteRegistry();
  healthRoutes(api);
  metricsRoutes(api);
  authRoutes(api);
  staffRoutes(api);
  auditRoutes(api);
  schoolRoutes(api);
  userRoutes(api);
  attendanceRoutes(api);
  docsRoutes(api);
  deviceRoutes(api);
  flagRoutes(api);
  sessionRoutes(api);
  syncRoutes(api, opts);
  figureRoutes(api);
  calendarRoutes(api);
  presenceRoutes(api);
  alertRoutes(api);
  datamartRoutes(api);
  messageRoutes(api);
  photoRoutes(api);
  pushTerminalRoutes(api);
  heldPunchRoutes(api);
  markRoutes(api);
  api.add({
    method: 'get', path: '/api/openapi.json', summary: 'This OpenAPI document', tags: ['operations'], auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
    async handler() {
      return reply.ok(openApiDocument(api));
    },
  });
  return api;
}

let cachedDocument: Record<string, unknown> | null = null;
export function openApiDocument(api: RouteRegistry): Record<string, unknown> {
  cachedDocument ??= buildOpenApi(api.routes, { title: 'Attendance sync service', version: '1.0.0', description: API_DESCRIPTION }, OPERATION_DOCS);
  return cachedDocument;
}

export function createApp(ctx: AppContext): { app: Express; registry: RouteRegistry } {
  const app = express();
  app.disable('x-powered-by');
  // Off by default: X-Forwarded-For is only believed from the proxies TRUST_PROXY names, or any
  // client could pick the address its failed sign-ins count against.
  app.set('trust proxy', ctx.config.trustProxy);
  app.use(requestIds()); // X-Request-Id on every answer, /iclock's too (docs/OPERATIONS.md)
  // PUSH terminals (docs/protocol/push.md) first: plain text, their own counter, no request log.
  app.use('/iclock', iclockRouter(ctx));
  app.use(httpMetrics());
  app.use(requestLog(ctx.logger, ctx.config));
  app.use(refuseNulInUrl());
  // JSON bodies are parsed by the routes that may receive one (RouteRegistry.mount).
  const registry = buildRegistry({
    maxArchiveBytes: ctx.config.maxArchiveBytes,
    budget: new InFlightBudget(ctx.config.uploadMaxInFlightBytes),
    retryAfterSeconds: ctx.config.importRetryAfterSeconds,
  });
  const router = express.Router();
  registry.mount(router, ctx);
  app.use(router);
  app.use(MOBILE_APP_PATH, mobileAppStatic());
  app.use(dashboardStatic());
  app.use(notFoundHandler);
  app.use(problemMiddleware(ctx));
  return { app, registry };
}

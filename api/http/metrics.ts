// Prometheus metrics of the api (docs/OPERATIONS.md). Two kinds:
// - counted in this process: requests by declared route and status, with latency; uploads by
//   channel and result. Under API_PROCESSES > 1 (node:cluster) a scrape reaches one process, so
//   that process asks the primary, which sums every process's figures (prom-client's
//   AggregatorRegistry), and answers with the total;
// - read from the database at scrape time: the job queue, devices by status and attention,
//   data mart runs. These are the same whichever process answers, so they are read once, by it.
// The worker counts imports itself and serves them on its own port (worker/metrics.ts).
import cluster from 'node:cluster';
import type { RequestHandler } from 'express';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, register } from 'prom-client';
import { CHANNEL_NAMES } from '../../shared/protocol/channels.js';
import { channelStatusFigures, datamartFigures, deviceFigures, pushFigures, queueFigures } from '../../db/repositories/ops-figures.js';
import { IMPORT_QUEUE } from '../../shared/jobs.js';
import { collectProcessMetrics } from '../../shared/metrics.js';
import type { AppContext } from '../context/context.js';

const UPLOAD_ROUTE = '/v4/:channel/datas';

const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by method, declared route (e.g. /api/users/:id) and status, with their duration; _count counts requests',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

const uploads = new Counter({
  name: 'attendance_uploads_total',
  help: 'Uploads answered (POST /v4/:channel/datas) by channel and result: "accepted", the refusal code (server_busy, archive_corrupt, sync_in_progress...) or closed_before_answer',
  labelNames: ['channel', 'result'] as const,
});

const PUSH_PATHS = new Set(['cdata', 'getrequest', 'devicecmd', 'registry', 'push', 'ping', 'querydata']);
const PUSH_TABLES = new Set(['ATTLOG', 'RTLOG', 'OPERLOG', 'USERINFO', 'OPTIONS', 'ATTPHOTO']);

const pushCalls = new Counter({
  name: 'attendance_push_calls_total',
  help: 'PUSH (/iclock) calls answered, by path (cdata, getrequest, devicecmd, registry, ...), table (cdata uploads: ATTLOG, RTLOG, OPERLOG, OPTIONS, other; "-" otherwise) and HTTP status (200 accepted; 403 refused: unknown, pending, disabled or held terminal; 413, 408, 503 ...)',
  labelNames: ['path', 'table', 'status'] as const,
});
const pushLines = new Counter({
  name: 'attendance_push_lines_total',
  help: 'Lines of PUSH punch uploads stored for import (the n of OK: n), by table (ATTLOG, RTLOG); what the import makes of them is in the sessions\' stats',
  labelNames: ['table'] as const,
});

/** A /iclock call answered (api/push/iclock.ts), by its path and table: bounded labels whatever the caller sends. */
export function observePushCall(path: string, table: string | null, status: number): void {
  const known = PUSH_PATHS.has(path) ? path : 'other';
  let label = '-';
  if (known === 'cdata') {
    const t = (table ?? '').toUpperCase();
    label = t === '' ? 'handshake' : PUSH_TABLES.has(t) ? t : 'other';
  }
  pushCalls.inc({ path: known, table: label, status: String(status) });
}

/** Punch lines of a PUSH upload stored for import. */
export function observePushLines(table: 'ATTLOG' | 'rtlog', lines: number): void {
  pushLines.inc({ table: table.toUpperCase() }, lines);
}

/** A request answered outside express (api/http/device-routes.ts), counted as httpMetrics() counts one. */
export function observeRequest(method: string, route: string, status: string, seconds: number): void {
  httpDuration.observe({ method, route, status }, seconds);
}

/** One line per request, when its answer has been sent (or the connection dropped). */
export function httpMetrics(): RequestHandler {
  collectProcessMetrics();
  return (req, res, next) => {
    const end = httpDuration.startTimer();
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      // The declared pattern, never the raw URL: one series per route, not per id.
      const pattern = req.route?.path as string | undefined;
      const route = pattern ?? (res.statusCode === 404 ? '(unmatched)' : '(static)');
      const status = res.headersSent ? String(res.statusCode) : '499'; // closed by the client before an answer
      end({ method: req.method, route, status });
      if (pattern === UPLOAD_ROUTE && req.method === 'POST') {
        // From the path: express has put req.params back to the outer router's by now.
        const named = req.path.split('/')[2] ?? '';
        const channel = (CHANNEL_NAMES as readonly string[]).includes(named) ? named : 'unknown';
        // Gone before the answer: the batch may still be stored (the device's retry with the same bytes is then answered 202).
        const result = !res.headersSent ? 'closed_before_answer'
          : res.statusCode < 300 ? 'accepted' : ((res.locals.problemCode as string | undefined) ?? String(res.statusCode));
        uploads.inc({ channel, result });
      }
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}

// ---- read from the database at each scrape -------------------------------------------------

const state = new Registry();
const databaseUp = new Gauge({ name: 'attendance_database_up', help: '1 when the scrape could read the database, else 0', registers: [state] });
const queueJobs = new Gauge({
  name: 'attendance_queue_jobs', help: 'Jobs by queue and state: created (waiting), retry (waiting out a retry delay), active (running)',
  labelNames: ['queue', 'state'] as const, registers: [state],
});
const queueOldest = new Gauge({
  name: 'attendance_queue_oldest_job_age_seconds', help: 'Age of the oldest job waiting or running, by queue (0 when none)',
  labelNames: ['queue'] as const, registers: [state],
});
const deviceChannels = new Gauge({
  name: 'attendance_device_channels', help: 'Channels of enabled devices by sync status (0 idle, 1 importing, 2 package ready)',
  labelNames: ['channel', 'status'] as const, registers: [state],
});
const devices = new Gauge({ name: 'attendance_devices', help: 'Devices by state (enabled, disabled)', labelNames: ['state'] as const, registers: [state] });
const attention = new Gauge({
  name: 'attendance_devices_needing_attention', help: 'Enabled devices needing attention, in all (reason="any") and by reason, as the dashboard shows them',
  labelNames: ['reason'] as const, registers: [state],
});
const datamartRuns = new Gauge({
  name: 'attendance_datamart_runs', help: 'Data mart export runs recorded, by status (queued, running, done, failed)',
  labelNames: ['status'] as const, registers: [state],
});
const datamartLastSuccess = new Gauge({
  name: 'attendance_datamart_last_success_timestamp_seconds', help: 'When the last data mart run finished successfully (Unix time; 0 before the first)',
  registers: [state],
});

const pushTerminals = new Gauge({
  name: 'attendance_push_terminals', help: 'PUSH terminals by state: registered (enabled), held (registered, calling from an address not confirmed), disabled, pending (called, not registered)',
  labelNames: ['state'] as const, registers: [state],
});
const pushCommands = new Gauge({
  name: 'attendance_push_commands_open', help: 'PUSH commands not finished, by status: queued (not sent yet), sent (waiting for the terminal\'s result)',
  labelNames: ['status'] as const, registers: [state],
});
const GAUGES = [queueJobs, queueOldest, deviceChannels, devices, attention, datamartRuns, datamartLastSuccess, pushTerminals, pushCommands];

async function readState(ctx: AppContext): Promise<void> {
  for (const g of GAUGES) g.reset();
  try {
    const thresholds = { syncStuckAfterSeconds: ctx.config.syncStuckAfterSeconds, ackStuckAfterSeconds: ctx.config.ackStuckAfterSeconds };
    const [queue, channels, devs, mart, push] = await Promise.all([
      queueFigures(ctx.db), channelStatusFigures(ctx.db), deviceFigures(ctx.db, thresholds), datamartFigures(ctx.db), pushFigures(ctx.db),
    ]);
    // The import queue always shows, so that an alert on it sees 0 rather than nothing.
    for (const s of ['created', 'retry', 'active']) queueJobs.set({ queue: IMPORT_QUEUE, state: s }, 0);
    const oldest = new Map<string, number>([[IMPORT_QUEUE, 0]]);
    for (const q of queue) {
      queueJobs.set({ queue: q.queue, state: q.state }, q.jobs);
      oldest.set(q.queue, Math.max(oldest.get(q.queue) ?? 0, q.oldest_seconds ?? 0));
    }
    for (const [name, seconds] of oldest) queueOldest.set({ queue: name }, seconds);
    for (const name of CHANNEL_NAMES) for (const status of ['0', '1', '2']) deviceChannels.set({ channel: name, status }, 0);
    for (const c of channels) deviceChannels.set({ channel: c.channel, status: String(c.status) }, c.channels);
    devices.set({ state: 'enabled' }, devs.enabled);
    devices.set({ state: 'disabled' }, devs.disabled);
    attention.set({ reason: 'any' }, devs.needing_attention);
    for (const reason of ['stuck_processing', 'ack_overdue', 'silent', 'clock_off', 'address_changed', 'address_conflict'] as const) attention.set({ reason }, devs[reason]);
    for (const s of ['queued', 'running', 'done', 'failed']) datamartRuns.set({ status: s }, 0);
    for (const r of mart.runs) datamartRuns.set({ status: r.status }, r.runs);
    if (mart.last_success_seconds !== null) datamartLastSuccess.set(mart.last_success_seconds);
    for (const [terminalState, n] of Object.entries(push.terminals)) pushTerminals.set({ state: terminalState }, n);
    for (const status of ['queued', 'sent']) pushCommands.set({ status }, push.commands.find((c) => c.status === status)?.commands ?? 0);
    databaseUp.set(1);
  } catch (err) {
    // The process figures still answer; the database's absence is itself the figure.
    ctx.logger.warn({ err: (err as Error).message }, 'metrics: database figures unavailable');
    for (const g of GAUGES) g.reset();
    databaseUp.set(0);
  }
}

// ---- node:cluster: one answer for all api processes ---------------------------------------

const ASK = 'attendance:metrics-ask';
const ANSWER = 'attendance:metrics-answer';
let asked = 0;
const pending = new Map<number, (text: string | null) => void>();

/** In the primary of API_PROCESSES > 1: answers a process's request with every process's figures summed. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text }),
      () => worker.send({ type: ANSWER, id: message.id, text: null }),
    );
  });
}

if (cluster.isWorker) {
  new AggregatorRegistry(); // answers the primary's requests for this process's figures
  process.on('message', (message: { type?: string; id?: number; text?: string | null }) => {
    if (message?.type !== ANSWER || message.id === undefined) return;
    pending.get(message.id)?.(message.text ?? null);
    pending.delete(message.id);
  });
}

function processFigures(): Promise<string> {
  if (!cluster.isWorker || !process.send) return register.metrics();
  const id = ++asked;
  return new Promise<string>((resolve) => {
    const timer = setTimeout(() => { pending.delete(id); resolve(register.metrics()); }, 5000);
    pending.set(id, (text) => { clearTimeout(timer); resolve(text ?? register.metrics()); });
    process.send!({ type: ASK, id });
  });
}

let scraping: Promise<string> = Promise.resolve('');

/** The text a scrape of GET /metrics answers. Scrapes run one after the other (they share the gauges). */
export function scrape(ctx: AppContext): Promise<string> {
  scraping = scraping.catch(() => '').then(async () => {
    await readState(ctx);
    const [own, db] = await Promise.all([processFigures(), state.metrics()]);
    return `${own.trimEnd()}\n${db}`;
  });
  return scraping;
}

export const METRICS_CONTENT_TYPE = register.contentType;

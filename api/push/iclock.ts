// The PUSH (iclock) endpoints (docs/protocol/push.md): plain text in, plain text out, never JSON.
// A terminal keeps its records until it reads the expected `OK…`, so every refusal is an answer
// other than `OK` and every `OK: <n>` is sent after the commit of what it acknowledges.
// Served by a plain node:http handler ahead of express (api/server.ts): getrequest is polled by
// every terminal every few seconds, and express's request setup, routing, body parsers, metrics
// and request log would cost more than the answer itself (an idle poll touches no database).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import {
  countFingerprints, findTerminal, hasOpenCommands, noteContact, raiseStamp, recordCommandResults, recordOptions, sameBatchSession,
  storeAttlogBatch, storeOperlog, takeCommandsToSend, upsertTerminalUsers, hasCommandsDue, failUnansweredCommands, type TerminalLookup,
} from '../../db/repositories/push.js';
import { sha256 } from '../../shared/archive/hash.js';
import {
  bodyLines, isSerialNumber, type TerminalUser, parseCommandResults, parseOperlogLine, parseOptions, PUSH_MAX_BODY_BYTES, utcOffsetHours,
} from '../../shared/protocol/push.js';
import type { AppContext } from '../context.js';
import { commandFinished, markFlagsDelivered } from './commands.js';

const SERVER_VERSION = '0.1.0';
/** Commands sent per poll at most: a terminal answers them in one devicecmd. */
const COMMANDS_PER_POLL = 20;

type Table = 'ATTLOG' | 'OPERLOG' | 'USERINFO' | 'OPTIONS' | 'OTHER';

class PushAnswer {
  constructor(readonly status: number, readonly body: string, readonly headers: Record<string, string> = {}) {}
}

const BAD_SN = new PushAnswer(400, 'BAD SN');
const DISABLED = new PushAnswer(403, 'DEVICE DISABLED');
const NOT_APPROVED = new PushAnswer(403, 'DEVICE NOT APPROVED');
const TOO_LARGE = new PushAnswer(413, 'BODY TOO LARGE', { Connection: 'close' });

/** What a route reads of a call: the query, the body (raw bytes), the caller's address. */
interface PushRequest {
  query: URLSearchParams;
  body: Buffer;
  address: string | null;
}

function send(res: ServerResponse, answer: PushAnswer): void {
  res.writeHead(answer.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(answer.body), ...answer.headers });
  res.end(answer.body);
}

function serialOf(req: PushRequest): string {
  const sn = req.query.get('SN') ?? req.query.get('sn');
  if (!isSerialNumber(sn)) throw BAD_SN;
  return sn;
}

function tableOf(req: PushRequest): Table {
  const table = (req.query.get('table') ?? '').toUpperCase();
  if (table === 'ATTLOG' || table === 'OPERLOG' || table === 'USERINFO') return table;
  if (table === 'OPTIONS') return 'OPTIONS';
  return 'OTHER';
}

function bodyText(req: PushRequest): string {
  return req.body.toString('utf8');
}

const allowListCache = new Map<string, BlockList>();
/** The terminal's allow-list of source networks, when it has one. */
function addressAllowed(terminal: TerminalLookup, address: string | null): boolean {
  if (!terminal.allowed_networks || terminal.allowed_networks.length === 0) return true;
  if (!address || !isIP(address)) return false;
  const key = terminal.allowed_networks.join(',');
  let list = allowListCache.get(key);
  if (!list) {
    list = new BlockList();
    for (const cidr of terminal.allowed_networks) {
      const [net, bits] = cidr.split('/');
      const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
      list.addSubnet(net, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type);
    }
    if (allowListCache.size > 10_000) allowListCache.clear();
    allowListCache.set(key, list);
  }
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** A registered, enabled terminal calling from an allowed address, or the refusal docs/protocol/push.md §1–§2 gives. */
function approved(terminal: TerminalLookup | undefined, address: string | null): TerminalLookup & { device_id: string; school_id: number } {
  if (!terminal || terminal.device_id === null || terminal.school_id === null) throw NOT_APPROVED;
  if (terminal.disabled) throw DISABLED;
  if (!addressAllowed(terminal, address)) throw NOT_APPROVED;
  return terminal as TerminalLookup & { device_id: string; school_id: number };
}

function stampOf(req: PushRequest): number | null {
  const raw = req.query.get('Stamp') ?? req.query.get('stamp');
  return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

/** TRUST_PROXY read as express reads its `trust proxy` setting (the same package decides). */
function trustOf(setting: false | number | string[]): ((addr: string, i: number) => boolean) | null {
  if (setting === false) return null;
  if (typeof setting === 'number') return (_addr, i) => i < setting;
  return proxyaddr.compile(setting);
}

type Route = (req: PushRequest) => Promise<PushAnswer>;

/**
 * The /iclock handler: answers (and returns true) for every path under /iclock/, returns false
 * for any other path (express serves it). Paths match without case and with or without `.aspx`
 * or a trailing slash, as express's routing did.
 */
export function iclockHandler(ctx: AppContext): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { db, logger } = ctx;
  const cache = ctx.push;
  const resend = { resendAfterSeconds: ctx.config.pushCommandAnswerSeconds, maxSends: ctx.config.pushCommandMaxSends };
  const trust = trustOf(ctx.config.trustProxy);

  /** First contact, or any contact: records the SN (pending when unknown) and its address. */
  const contact = async (req: PushRequest, sn: string): Promise<TerminalLookup | undefined> => {
    const pushVersion = req.query.get('pushver')?.slice(0, 32) ?? null;
    await noteContact(db, { serialNumber: sn, address: req.address, pushVersion });
    return findTerminal(db, sn);
  };

  // Handshake (docs/protocol/push.md §3). A pending terminal gets its options too, so that it can report its
  // model and firmware (options upload, INFO); its uploads are refused until it is approved.
  const handshake: Route = async (req) => {
    const sn = serialOf(req);
    const terminal = await contact(req, sn);
    if (terminal?.disabled) throw DISABLED;
    if (terminal?.device_id && !addressAllowed(terminal, req.address)) throw NOT_APPROVED;
    cache.forget(sn);
    const timezone = terminal?.device_id ? terminal.timezone : 'UTC';
    return new PushAnswer(200, [
      `GET OPTION FROM: ${sn}`,
      `ATTLOGStamp=${terminal?.attlog_stamp ?? 0}`,
      `OPERLOGStamp=${terminal?.operlog_stamp ?? 0}`,
      `ATTPHOTOStamp=${terminal?.attphoto_stamp ?? 0}`,
      'ErrorDelay=30',
      `Delay=${terminal?.delay_seconds ?? 10}`,
      'TransTimes=00:00;14:05',
      'TransInterval=1',
      'TransFlag=TransData AttLog OpLog EnrollUser ChgUser UserPic',
      'Realtime=1',
      'Encrypt=None',
      `TimeZone=${utcOffsetHours(timezone, new Date())}`,
      `ServerVer=${SERVER_VERSION}`,
    ].join('\n') + '\n');
  };

  const upload: Route = async (req) => {
    const sn = serialOf(req);
    const table = tableOf(req);
    const text = bodyText(req);
    // A registered terminal from the cache (disabling, moving or approving one NOTIFYs every api
    // process, which drops it); an unknown or pending one is recorded and read fresh.
    let terminal = await cache.lookup(sn);
    // A refusal is always read fresh: staff who just approved, enabled or widened the allow-list are obeyed at once.
    if (terminal?.device_id && !terminal.disabled && addressAllowed(terminal, req.address)) cache.noteSeen(sn, req.address);
    else {
      terminal = await contact(req, sn);
      cache.forget(sn);
    }
    if (table === 'OPTIONS') {
      if (terminal?.disabled) throw DISABLED;
      await recordOptions(db, sn, parseOptions(text));
      return new PushAnswer(200, 'OK: 1');
    }
    const known = approved(terminal, req.address);
    if (table === 'ATTLOG') return acceptAttlog(req, known);
    if (table === 'OPERLOG' || table === 'USERINFO') return acceptOperlog(req, known, text);
    // ATTPHOTO and other tables: accepted and not kept (docs/protocol/push.md §4).
    return new PushAnswer(200, 'OK');
  };

  /**
   * docs/protocol/push.md §4: stored as a session whose archive is the body, in one statement that is its own
   * transaction; the pending session is its import's queue entry and the commit wakes the worker
   * (db/repositories/push.ts storeAttlogBatch). Then `OK: <n>`.
   */
  const acceptAttlog = async (req: PushRequest, terminal: TerminalLookup & { device_id: string }): Promise<PushAnswer> => {
    const archive = req.body;
    const n = bodyLines(archive.toString('utf8')).length;
    if (n === 0) return new PushAnswer(200, 'OK: 0');
    const hash = sha256(archive);
    if (await ctx.backlog.full()) {
      // The same bytes again after a lost answer: already stored, so `OK` even now.
      if (await sameBatchSession(db, terminal.device_id, hash)) return new PushAnswer(200, `OK: ${n}`);
      return new PushAnswer(503, 'SERVER BUSY', { 'Retry-After': String(ctx.config.importRetryAfterSeconds) });
    }
    const outcome = await storeAttlogBatch(db, {
      sessionId: randomUUID(), deviceId: terminal.device_id, serialNumber: terminal.serial_number, archive, sha256: hash, stamp: stampOf(req),
    });
    if (outcome === 'disabled') throw DISABLED;
    if (outcome === 'stored') ctx.backlog.accepted();
    return new PushAnswer(200, `OK: ${n}`);
  };

  /** OPERLOG (and USERINFO answers): the operation log and the users the terminal reports, in one transaction. */
  const acceptOperlog = async (req: PushRequest, terminal: TerminalLookup & { device_id: string }, text: string): Promise<PushAnswer> => {
    const lines = bodyLines(text);
    const users: TerminalUser[] = [];
    const fingerprints: string[] = [];
    for (const line of lines) {
      const parsed = parseOperlogLine(line);
      if (parsed.kind === 'user') users.push(parsed.user);
      else if (parsed.kind === 'fingerprint') fingerprints.push(parsed.pin);
    }
    const stamp = stampOf(req);
    await db.transaction().execute(async (trx) => {
      await storeOperlog(trx, terminal.device_id, lines);
      await upsertTerminalUsers(trx, terminal.device_id, users);
      await countFingerprints(trx, terminal.device_id, fingerprints);
      if (stamp !== null) await raiseStamp(trx, terminal.serial_number, 'OPERLOG', stamp);
    });
    return new PushAnswer(200, `OK: ${lines.length}`);
  };

  // The hottest call (docs/protocol/push.md §5): from memory when nothing is due.
  const getrequest: Route = async (req) => {
    const sn = serialOf(req);
    const address = req.address;
    let terminal = await cache.lookup(sn);
    if (!terminal?.device_id || terminal.disabled || !addressAllowed(terminal, address)) {
      // Unknown, pending or refused: read fresh (and recorded), as uploads do.
      terminal = await contact(req, sn);
      cache.forget(sn);
    }
    if (terminal?.disabled) throw DISABLED;
    if (!terminal?.device_id) return new PushAnswer(200, 'OK');
    if (!addressAllowed(terminal, address)) throw NOT_APPROVED;
    cache.noteSeen(sn, address);
    // Some firmware report themselves on every poll: INFO=<firmware>,<users>,<fingerprints>,<punches>,<ip>,…
    const info = req.query.get('INFO');
    if (info !== null) await noteInfo(sn, info);
    const deviceId = terminal.device_id;
    if (cache.isIdle(deviceId)) return IDLE;
    const ticket = cache.ticket(deviceId);
    // Most misses find nothing open at all: one indexed read, then idle again.
    if (!(await hasOpenCommands(db, deviceId))) {
      cache.markIdle(deviceId, ticket, null);
      return IDLE;
    }
    // Commands sent their last time and still unanswered are failed here, where they are seen (shown to staff).
    const failed = await db.transaction().execute(async (trx) => {
      const rows = await failUnansweredCommands(trx, deviceId, resend);
      for (const command of rows) await commandFinished(trx, deviceId, command);
      return rows;
    });
    if (failed.length > 0) logger.warn({ sn, failed: failed.map((c) => c.id) }, 'push: commands failed without an answer');
    const commands = await takeCommandsToSend(db, deviceId, { ...resend, limit: COMMANDS_PER_POLL });
    await markFlagsDelivered(db, commands.flatMap((c) => (c.flag_id === null ? [] : [c.flag_id])));
    if (commands.length === 0) {
      const { nextDueAt } = await hasCommandsDue(db, deviceId, resend);
      cache.markIdle(deviceId, ticket, nextDueAt ? nextDueAt.getTime() : null);
      return IDLE;
    }
    logger.info({ sn, commands: commands.map((c) => c.id) }, 'push: commands sent');
    return new PushAnswer(200, commands.map((c) => `C:${c.id}:${c.command}`).join('\n') + '\n');
  };

  const infoNoted = new Map<string, number>();
  const noteInfo = async (sn: string, info: string) => {
    const now = Date.now();
    if ((infoNoted.get(sn) ?? 0) > now - 600_000) return;
    if (infoNoted.size > 100_000) infoNoted.clear();
    infoNoted.set(sn, now);
    const [firmware, users, fingerprints, punches, ip] = info.split(',').map((s) => s.trim().slice(0, 64));
    await recordOptions(db, sn, Object.fromEntries(Object.entries({ FWVersion: firmware, UserCount: users, FPCount: fingerprints, TransactionCount: punches, IPAddress: ip })
      .filter((e): e is [string, string] => Boolean(e[1]))));
  };

  // Command results (docs/protocol/push.md §5): one per line; a shell result may span several lines.
  const devicecmd: Route = async (req) => {
    const sn = serialOf(req);
    const terminal = approved(await findTerminal(db, sn), req.address);
    const results = parseCommandResults(bodyText(req));
    const { ignored } = await db.transaction().execute(async (trx) => {
      const outcome = await recordCommandResults(trx, terminal.device_id, results);
      for (const command of outcome.recorded) await commandFinished(trx, terminal.device_id, command);
      return outcome;
    });
    // Ids of another terminal's commands, unknown ids, or results already recorded: answered OK
    // (the terminal would resend them forever otherwise) and changing nothing.
    if (ignored.length > 0) logger.warn({ sn, ignored }, 'push: devicecmd results for no command of this terminal');
    return new PushAnswer(200, 'OK');
  };

  // Some firmware register through this; harmless: answer OK (registry carries options).
  const registry: Route = async (req) => {
    const sn = serialOf(req);
    const terminal = await contact(req, sn);
    if (terminal?.disabled) throw DISABLED;
    await recordOptions(db, sn, parseOptions(bodyText(req)));
    return new PushAnswer(200, 'OK: 1');
  };
  const harmless: Route = async (req) => {
    serialOf(req);
    return new PushAnswer(200, 'OK');
  };

  /** method (GET also answers HEAD; '*' any) → path without `/iclock/`, `.aspx` or a trailing slash → route. */
  const routes: Record<string, Record<string, Route>> = {
    cdata: { GET: handshake, POST: upload },
    getrequest: { GET: getrequest },
    devicecmd: { POST: devicecmd },
    registry: { POST: registry, '*': harmless },
    ping: { '*': harmless },
    push: { '*': harmless },
    querydata: { '*': harmless },
  };

  const answer = async (route: Route, req: PushRequest, res: ServerResponse, path: string) => {
    try {
      send(res, await route(req));
    } catch (err) {
      if (err instanceof PushAnswer) return send(res, err);
      logger.error({ err, path }, 'push: request failed; nothing stored');
      if (!res.headersSent) send(res, new PushAnswer(500, 'ERROR'));
    }
  };

  return (req, res) => {
    const url = req.url ?? '';
    if (url.length < 8 || url.slice(0, 8).toLowerCase() !== '/iclock/') return false;
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).slice(8).toLowerCase().replace(/\/$/, '').replace(/\.aspx$/, '');
    const methods = routes[path];
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? 'GET';
    const route = methods?.[method] ?? methods?.['*'];
    if (!route) {
      req.resume();
      send(res, methods ? new PushAnswer(405, 'METHOD NOT ALLOWED') : new PushAnswer(404, 'NOT FOUND'));
      return true;
    }
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let address = req.socket.remoteAddress ?? null;
    if (trust) {
      try {
        address = proxyaddr(req, trust);
      } catch {
        // A malformed X-Forwarded-For: the socket's address stands.
      }
    }
    if (address?.startsWith('::ffff:')) address = address.slice(7);
    if (method === 'GET') {
      req.resume();
      void answer(route, { query, body: EMPTY, address }, res, path);
      return true;
    }
    // Terminals send text under any content type; the body is read as raw bytes, decoded as UTF-8.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > PUSH_MAX_BODY_BYTES) {
      req.resume();
      send(res, TOO_LARGE);
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > PUSH_MAX_BODY_BYTES) {
        refused = true;
        send(res, TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) void answer(route, { query, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), address }, res, path);
    });
    req.on('error', (err) => {
      if (refused) return;
      refused = true;
      logger.warn({ err: err.message, path }, 'push: request body not read; nothing stored');
      if (!res.headersSent) send(res, new PushAnswer(400, 'BAD REQUEST'));
    });
    return true;
  };
}

const EMPTY = Buffer.alloc(0);
const IDLE = new PushAnswer(200, 'OK');

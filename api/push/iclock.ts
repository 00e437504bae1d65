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
  countFingerprints, findTerminal, hasOpenCommands, noteContact, noteTimeZoneSent, raiseStamp, recordCommandResults, recordOptions, sameBatchSession,
  storeAttlogBatch, storeOperlog, storeUpload, takeCommandsToSend, upsertTerminalUsers, hasCommandsDue, failUnansweredCommands, type TerminalLookup,
} from '../../db/repositories/push.js';
import { sha256 } from '../../shared/archive/hash.js';
import {
  bodyLines, isSerialNumber, pushText, type TerminalUser, parseCommandResults, parseOperlogLine, parseOptions, pushTimeZone,
} from '../../shared/protocol/push.js';
import type { AppContext } from '../context.js';
import { InFlightBudget } from '../http/in-flight-budget.js';
import { bodyLimit, readBody, type Caller } from './body.js';
import { commandFinished, markFlagsDelivered } from './commands.js';

const SERVER_VERSION = '0.1.0';
/** Commands sent per poll at most: a terminal answers them in one devicecmd. */
const COMMANDS_PER_POLL = 20;

type Table = 'ATTLOG' | 'RTLOG' | 'OPERLOG' | 'USERINFO' | 'OPTIONS' | 'ATTPHOTO' | 'OTHER';

class PushAnswer {
  constructor(readonly status: number, readonly body: string, readonly headers: Record<string, string> = {}) {}
}

const BAD_SN = new PushAnswer(400, 'BAD SN');
const DISABLED = new PushAnswer(403, 'DEVICE DISABLED');
const NOT_APPROVED = new PushAnswer(403, 'DEVICE NOT APPROVED');

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
  if (table === 'ATTLOG' || table === 'OPERLOG' || table === 'USERINFO' || table === 'OPTIONS' || table === 'RTLOG' || table === 'ATTPHOTO') return table;
  return 'OTHER';
}

/** The name an upload of a table we do not import is kept under: `table=` as sent, with `tablename=` for tabledata (PUSH 3.x). */
function otherTableName(req: PushRequest): string {
  const table = (req.query.get('table') ?? '').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 32) || '(none)';
  const name = req.query.get('tablename')?.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 30);
  return name ? `${table}:${name}` : table;
}

/**
 * Security PUSH 3.x firmware (`DeviceType=acc`, `pushver=3.…`: SpeedFace, SenseFace, ProFace and
 * access panels) registers through /iclock/registry and reads a different option list.
 */
function isPush3(query: URLSearchParams, options: Record<string, string> = {}): boolean {
  const deviceType = query.get('DeviceType') ?? query.get('devicetype') ?? options.DeviceType ?? options['~DeviceType'];
  if (deviceType?.toLowerCase() === 'acc') return true;
  const version = query.get('pushver') ?? options.PushVersion ?? options.pushver ?? '';
  return /^[3-9]\./.test(version);
}

/** The RegistryCode (≤ 32 characters) and SessionID a PUSH 3.x terminal is given: stable per device, nothing to store. */
function registryCode(deviceId: string): string {
  return sha256(`push-registry:${deviceId}`).slice(0, 32);
}

function bodyText(req: PushRequest): string {
  return pushText(req.body);
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
  const pushBudget = new InFlightBudget(ctx.config.pushMaxInFlightBytes);

  /** First contact, or any contact: records the SN (pending when unknown) and its address. */
  const contact = async (req: PushRequest, sn: string, reportedVersion: string | null = null): Promise<TerminalLookup | undefined> => {
    const pushVersion = (req.query.get('pushver') ?? reportedVersion)?.slice(0, 32) ?? null;
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
    const timeZone = pushTimeZone(timezone, new Date());
    if (terminal?.device_id) await noteTimeZoneSent(db, sn, timeZone.minutes);
    if (isPush3(req.query)) {
      // Its cue to register (PUSH 3.x §7.1): an unknown or pending terminal posts /iclock/registry next.
      if (!terminal?.device_id) return new PushAnswer(200, 'OK');
      return new PushAnswer(200, ['registry=ok', `RegistryCode=${registryCode(terminal.device_id)}`, ...push3Options(terminal, req, timeZone.option)].join('\n') + '\n');
    }
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
      `TimeZone=${timeZone.option}`,
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
    if (table === 'ATTLOG') return acceptPunches(req, known, 'ATTLOG');
    if (table === 'RTLOG') return acceptPunches(req, known, 'rtlog');
    if (table === 'OPERLOG' || table === 'USERINFO') return acceptOperlog(req, known, text);
    // Photos: accepted and not kept (docs/protocol/push.md §4 allows it; they are large and no figure reads them).
    if (table === 'ATTPHOTO') return new PushAnswer(200, 'OK');
    return acceptOther(req, known);
  };

  /**
   * Any other table (docs/protocol/push.md §4): the terminal deletes what it is answered OK for, so the body is
   * kept with the terminal first (push_uploads, shown to staff); a body that cannot be stored is
   * answered 500 by the caller, never OK. PUSH 3.x `tabledata` is acknowledged as the vendor
   * writes it, `<tablename>=<count>`: a plain OK makes the terminal send the same records again.
   */
  const acceptOther = async (req: PushRequest, terminal: TerminalLookup & { device_id: string }): Promise<PushAnswer> => {
    if (req.body.length > 0) await storeUpload(db, { deviceId: terminal.device_id, table: otherTableName(req), body: req.body, sha256: sha256(req.body) });
    const tablename = req.query.get('tablename');
    const count = req.query.get('count');
    if ((req.query.get('table') ?? '').toLowerCase() === 'tabledata' && tablename && /^[A-Za-z0-9_]{1,32}$/.test(tablename) && count && /^\d{1,9}$/.test(count)) {
      return new PushAnswer(200, `${tablename}=${count}`);
    }
    return new PushAnswer(200, 'OK');
  };

  /**
   * docs/protocol/push.md §4: stored as a session whose archive is the body, in one statement that is its own
   * transaction; the pending session is its import's queue entry and the commit wakes the worker
   * (db/repositories/push.ts storeAttlogBatch). Then `OK: <n>` for ATTLOG, `OK` for rtlog events
   * (PUSH 3.x: the import reads their punches, channels/push/import-attlog.ts).
   */
  const acceptPunches = async (req: PushRequest, terminal: TerminalLookup & { device_id: string }, table: 'ATTLOG' | 'rtlog'): Promise<PushAnswer> => {
    const archive = req.body;
    const n = bodyLines(pushText(archive)).length;
    const ok = new PushAnswer(200, table === 'ATTLOG' ? `OK: ${n}` : 'OK');
    if (n === 0) return ok;
    const hash = sha256(archive);
    if (await ctx.backlog.full()) {
      // The same bytes again after a lost answer: already stored, so `OK` even now.
      if (await sameBatchSession(db, terminal.device_id, hash)) return ok;
      return new PushAnswer(503, 'SERVER BUSY', { 'Retry-After': String(ctx.config.importRetryAfterSeconds) });
    }
    const outcome = await storeAttlogBatch(db, {
      sessionId: randomUUID(), deviceId: terminal.device_id, serialNumber: terminal.serial_number, archive, sha256: hash, stamp: stampOf(req), table,
    });
    if (outcome === 'disabled') throw DISABLED;
    if (outcome === 'stored') ctx.backlog.accepted();
    return ok;
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
    // docs/protocol/push.md §5: an answer holding one command ends without a newline (strict clients reject `C:17:INFO\n`).
    const lines = commands.map((c) => `C:${c.id}:${c.command}`);
    return new PushAnswer(200, lines.length === 1 ? lines[0] : `${lines.join('\n')}\n`);
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

  // Command results (docs/protocol/push.md §5): one per ID= line; a result may span several lines (shared/protocol/push.ts).
  const devicecmd: Route = async (req) => {
    const sn = serialOf(req);
    const terminal = approved(await findTerminal(db, sn), req.address);
    const results = parseCommandResults(bodyText(req));
    const { ignored } = await db.transaction().execute(async (trx) => {
      const outcome = await recordCommandResults(trx, terminal.device_id, results);
      for (const command of outcome.recorded) await commandFinished(trx, terminal.device_id, command);
      // INFO answers the terminal's settings on the lines after its result: kept like an options upload.
      const mine = new Set(outcome.recorded.filter((c) => c.status === 'succeeded' && /^INFO\b/i.test(c.command)).map((c) => c.id));
      for (const r of results) if (mine.has(r.id) && r.content) await recordOptions(trx, sn, parseOptions(r.content));
      return outcome;
    });
    // Ids of another terminal's commands, unknown ids, or results already recorded: answered OK
    // (the terminal would resend them forever otherwise) and changing nothing.
    if (ignored.length > 0) logger.warn({ sn, ignored }, 'push: devicecmd results for no command of this terminal');
    return new PushAnswer(200, 'OK');
  };

  // The registry carries the terminal's options (model, firmware, counts): kept for staff. A
  // Security PUSH 3.x terminal registers here and needs its RegistryCode to go on; while it is
  // pending it is refused (it keeps its events and registers again after ErrorDelay).
  const registry: Route = async (req) => {
    const sn = serialOf(req);
    const options = parseOptions(bodyText(req));
    const terminal = await contact(req, sn, options.PushVersion ?? options.pushver ?? null);
    if (terminal?.disabled) throw DISABLED;
    await recordOptions(db, sn, options);
    if (!isPush3(req.query, options)) return new PushAnswer(200, 'OK: 1');
    const known = approved(terminal, req.address);
    cache.forget(sn);
    return new PushAnswer(200, `RegistryCode=${registryCode(known.device_id)}`);
  };

  // PUSH 3.x reads its options here after registering (what a 2.x terminal reads at the handshake).
  const pushOptions: Route = async (req) => {
    const sn = serialOf(req);
    const terminal = await contact(req, sn);
    if (terminal?.disabled) throw DISABLED;
    if (!terminal?.device_id || !addressAllowed(terminal, req.address)) return new PushAnswer(200, 'OK');
    const timeZone = pushTimeZone(terminal.timezone, new Date());
    await noteTimeZoneSent(db, sn, timeZone.minutes);
    return new PushAnswer(200, push3Options(terminal, req, timeZone.option).join('\n') + '\n');
  };

  // A data query's answer (PUSH 3.x `querydata`) or anything else posted here: kept like an
  // unknown table's upload from a registered terminal, so nothing answered OK is dropped unseen.
  const harmless: Route = async (req) => {
    const sn = serialOf(req);
    if (req.body.length === 0) return new PushAnswer(200, 'OK');
    const terminal = await findTerminal(db, sn);
    if (terminal?.device_id && !terminal.disabled && addressAllowed(terminal, req.address)) {
      const name = req.query.get('tablename')?.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 30);
      await storeUpload(db, { deviceId: terminal.device_id, table: `querydata${name ? `:${name}` : ''}`, body: req.body, sha256: sha256(req.body) });
    }
    return new PushAnswer(200, 'OK');
  };

  /** method (GET also answers HEAD; '*' any) → path without `/iclock/`, `.aspx` or a trailing slash → route. */
  const routes: Record<string, Record<string, Route>> = {
    cdata: { GET: handshake, POST: upload },
    getrequest: { GET: getrequest },
    devicecmd: { POST: devicecmd },
    registry: { POST: registry, '*': harmless },
    ping: { '*': harmless },
    push: { '*': pushOptions },
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

  /** Who calls, read before the body: a registered terminal calling from an allowed address, or not. */
  const callerOf = async (sn: string | null, address: string | null): Promise<Caller | 'bad_sn'> => {
    if (!isSerialNumber(sn)) return 'bad_sn';
    const terminal = await cache.lookup(sn);
    if (terminal?.disabled) return 'disabled';
    return terminal?.device_id && addressAllowed(terminal, address) ? 'registered' : 'unregistered';
  };

  const admitAndAnswer = async (route: Route, req: IncomingMessage, res: ServerResponse, call: { query: URLSearchParams; address: string | null; path: string }) => {
    let caller: Caller | 'bad_sn';
    try {
      caller = await callerOf(call.query.get('SN') ?? call.query.get('sn'), call.address);
    } catch (err) {
      logger.error({ err, path: call.path }, 'push: caller not looked up; nothing read');
      return send(res, new PushAnswer(503, 'SERVER BUSY', { Connection: 'close', 'Retry-After': String(ctx.config.importRetryAfterSeconds) }));
    }
    if (caller === 'bad_sn') return send(res, new PushAnswer(400, 'BAD SN', { Connection: 'close' }));
    const limit = bodyLimit(call.path, call.query.get('table') ?? '', caller);
    const read = await readBody(req, res, { limit, timeoutMs: ctx.config.pushBodyTimeoutSeconds * 1000, budget: pushBudget, retryAfterSeconds: ctx.config.importRetryAfterSeconds });
    if (!read.ok) return send(res, new PushAnswer(read.status, read.text, read.headers));
    // Refused unread: the route gives its refusal (and records the contact), and the rest of the body is not waited for.
    if (limit === 0 && req.headers['content-length'] !== '0') res.setHeader('Connection', 'close');
    await answer(route, { query: call.query, body: read.body, address: call.address }, res, call.path);
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
    // Terminals send text under any content type; the body is read as raw bytes, decoded as UTF-8,
    // once the caller is known to be allowed to send it (api/push/body.ts).
    void admitAndAnswer(route, req, res, { query, address, path });
    return true;
  };
}

/**
 * The option list of a Security PUSH 3.x terminal (its handshake after `registry=ok`, and
 * /iclock/push): the same settings as a 2.x handshake under the names this firmware reads.
 */
function push3Options(terminal: TerminalLookup & { device_id: string | null }, req: PushRequest, timeZone: number): string[] {
  const version = req.query.get('pushver');
  return [
    `ServerVersion=${SERVER_VERSION}`,
    'ServerName=attendance-sync',
    `PushProtVer=${version && /^[0-9.]{1,16}$/.test(version) ? version : '3.1.2'}`,
    'ErrorDelay=30',
    `RequestDelay=${terminal.delay_seconds}`,
    'TransTimes=00:00;14:05',
    'TransInterval=1',
    'TransTables=User Transaction',
    'Realtime=1',
    `SessionID=${sha256(`push-session:${terminal.device_id}`).slice(0, 32).toUpperCase()}`,
    'TimeoutSec=10',
    `TimeZone=${timeZone}`,
  ];
}

const EMPTY = Buffer.alloc(0);
const IDLE = new PushAnswer(200, 'OK');

// The PUSH (iclock) endpoints (docs/protocol/push.md): plain text in, plain text out, never JSON.
// A terminal keeps its records until it reads the expected `OK…`, so every refusal is an answer
// other than `OK` and every `OK: <n>` is sent after the commit of what it acknowledges.
// Served by a plain node:http handler ahead of express (api/server.ts): getrequest is polled by
// every terminal every few seconds, and express's request setup, routing, body parsers, metrics
// and request log would cost more than the answer itself (an idle poll touches no database).
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { failUnansweredCommands, hasCommandsDue, hasOpenCommands, recordCommandResults, takeCommandsToSend } from '../../db/repositories/push/commands.js';
import { bindAddress, issueRegistryCode, markConflict, recordAddressClaim, requireRegistryToken } from '../../db/repositories/push/terminal-address.js';
import { countFingerprints, storeOperlog, upsertTerminalUsers } from '../../db/repositories/push/terminal-users.js';
import { findTerminal, noteContact, noteTimeZoneSent, raiseStamp, recordOptions, type TerminalLookup } from '../../db/repositories/push/terminals.js';
import { sameBatchSession, storeAttlogBatch, storeUpload } from '../../db/repositories/push/uploads.js';
import { sha256 } from '../../shared/archive/hash.js';
import {
  bodyLines, isSerialNumber, pushText, type TerminalUser, parseCommandResults, parseOperlogLine, parseOptions, pushTimeZone,
} from '../../shared/protocol/push.js';
import type { AppContext } from '../context/context.js';
import { InFlightBudget } from '../http/in-flight-budget.js';
import { observePushCall, observePushLines } from '../http/metrics.js';
import { addressMatches } from './address.js';
import { bodyLimit, readBody, type Caller } from './body.js';
import { commandFinished, markFlagsDelivered } from './commands.js';
import { SerialRateLimiter } from './rate-limit.js';

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

/** What a route reads of a call: the query, the body (raw bytes), the caller's address, the token its Cookie carries (PUSH 3.x). */
interface PushRequest {
  query: URLSearchParams;
  body: Buffer;
  address: string | null;
  token: string | null;
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

/** A new RegistryCode and SessionID for a Security PUSH 3.x terminal (kept with it: issueRegistryCode). */
function freshRegistryCode(): { code: string; sessionId: string } {
  return { code: randomBytes(16).toString('hex'), sessionId: randomBytes(16).toString('hex').toUpperCase() };
}

/**
 * The token a Security PUSH 3.x terminal sends in its `Cookie: token=…` once registered, as the
 * vendor's notes give it: MD5 of RegistryCode, serial number and SessionID, in hex.
 */
function registryToken(terminal: TerminalLookup): string | null {
  if (!terminal.registry_code || !terminal.session_id) return null;
  return createHash('md5').update(`${terminal.registry_code}${terminal.serial_number}${terminal.session_id}`).digest('hex');
}

function tokenValid(terminal: TerminalLookup, token: string | null): boolean {
  // Most calls carry no token (every 2.x terminal): no hash computed for them.
  if (!token || token.length !== 32) return false;
  const expected = registryToken(terminal);
  if (!expected) return false;
  return timingSafeEqual(Buffer.from(token.toLowerCase()), Buffer.from(expected));
}

function tokenOf(cookie: string | undefined): string | null {
  const m = cookie ? /(?:^|;\s*)token=([^;\s]{1,128})/i.exec(cookie) : null;
  return m ? m[1] : null;
}

/**
 * Whether a registered terminal's call comes from where the terminal is (issue #33 §4,
 * docs/SECURITY.md "/iclock"): 'ok'; 'bind' (not bound yet: this address becomes its own);
 * 'held' (another address, or its bound address while another one claims the SN and staff have
 * not confirmed either); 'no_token' (a PUSH 3.x terminal that carries its RegistryCode's token
 * called without it). Pure: from the terminal's (cached) record.
 */
type Verdict = 'ok' | 'bind' | 'held' | 'no_token' | 'conflict';
function verdictOf(terminal: TerminalLookup, req: PushRequest, windowSeconds: number, now = Date.now()): Verdict {
  if (terminal.registry_token_required && !tokenValid(terminal, req.token)) return 'no_token';
  if (terminal.address_binding === 'off') return 'ok';
  if (terminal.bound_address === null) return req.address ? 'bind' : 'held';
  if (!addressMatches(terminal.address_binding, terminal.bound_address, req.address)) return 'held';
  // Its own address, while another one claimed it lately: two places at once (flagged by admit).
  if (!terminal.conflict && terminal.claimed_at && now - terminal.claimed_at.getTime() < windowSeconds * 1000) return 'conflict';
  if (terminal.conflict && !trusted(terminal)) return 'held';
  return 'ok';
}

/** A bound address staff confirmed, or a terminal proving itself with its token: kept going through a conflict. */
function trusted(terminal: TerminalLookup): boolean {
  return terminal.bound_confirmed || terminal.registry_token_required;
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

  const limiter = new SerialRateLimiter(ctx.config.pushRatePerSecond, ctx.config.pushRateBurst);

  const versionOf = (req: PushRequest, reported: string | null = null) => (req.query.get('pushver') ?? reported)?.slice(0, 32) ?? null;

  /**
   * The terminal read fresh. An unknown or pending SN is recorded (first contact, always kept:
   * db/repositories/push.ts noteContact); a registered one is noted only once admitted.
   */
  const fresh = async (req: PushRequest, sn: string, reportedVersion: string | null = null): Promise<TerminalLookup | undefined> => {
    cache.forget(sn);
    const terminal = await findTerminal(db, sn);
    if (terminal?.device_id) return terminal;
    await noteContact(db, { serialNumber: sn, address: req.address, pushVersion: versionOf(req, reportedVersion) });
    return findTerminal(db, sn);
  };

  const conflictWindow = ctx.config.pushConflictWindowSeconds;

  /** From the cache when it admits the call as it stands; else read fresh (refusals are always read fresh). */
  const lookup = async (req: PushRequest, sn: string): Promise<TerminalLookup | undefined> => {
    const cached = await cache.lookup(sn);
    if (cached?.device_id && !cached.disabled && addressAllowed(cached, req.address) && verdictOf(cached, req, conflictWindow) === 'ok') return cached;
    return fresh(req, sn);
  };

  /**
   * A registered, enabled terminal calling from where it is (issue #33 §4), or the refusal: not
   * approved, disabled, outside its allowed networks, from an address it is not bound to, or
   * without its RegistryCode's token. A held call is remembered as a claim (shown to staff) and
   * answered `403 DEVICE NOT APPROVED`: the terminal keeps its punches, nothing is stored,
   * no command is sent and no result applied.
   */
  const admit = async (terminal: TerminalLookup | undefined, req: PushRequest): Promise<TerminalLookup & { device_id: string; school_id: number }> => {
    let known = approved(terminal, req.address);
    let verdict = verdictOf(known, req, conflictWindow);
    if (verdict === 'bind') {
      if (await bindAddress(db, known.serial_number, req.address!)) {
        cache.forget(known.serial_number);
        logger.info({ sn: known.serial_number, address: req.address }, 'push: terminal bound to the address of its first call');
        return { ...known, bound_address: req.address };
      }
      // Another call bound it first: judged against that one.
      known = approved(await findTerminal(db, known.serial_number), req.address);
      verdict = verdictOf(known, req, conflictWindow);
    }
    if (verdict === 'conflict') {
      await markConflict(db, known.serial_number, conflictWindow);
      cache.forget(known.serial_number);
      logger.warn({ sn: known.serial_number, address: req.address }, 'push: serial number used from two places at once');
      if (!trusted(known)) throw NOT_APPROVED;
      verdict = 'ok';
    }
    if (verdict === 'ok') {
      if (!known.registry_token_required && known.registry_code && tokenValid(known, req.token)) {
        await requireRegistryToken(db, known.serial_number);
        cache.forget(known.serial_number);
      }
      return known;
    }
    const { conflict } = await recordAddressClaim(db, {
      serialNumber: known.serial_number, address: req.address, withoutToken: verdict === 'no_token', windowSeconds: conflictWindow,
    });
    // This process reads it again at once (the others at the NOTIFY): the bound address's next call sees the claim.
    cache.forget(known.serial_number);
    logger.warn({ sn: known.serial_number, address: req.address, bound: known.bound_address, verdict, conflict }, 'push: call held (not where the terminal is bound)');
    throw NOT_APPROVED;
  };

  // Handshake (docs/protocol/push.md §3). A pending terminal gets its options too, so that it can report its
  // model and firmware (options upload, INFO); its uploads are refused until it is approved.
  const handshake: Route = async (req) => {
    const sn = serialOf(req);
    let terminal = await fresh(req, sn);
    if (terminal?.disabled) throw DISABLED;
    if (terminal?.device_id) {
      terminal = await admit(terminal, req);
      await noteContact(db, { serialNumber: sn, address: req.address, pushVersion: versionOf(req) });
    }
    const timezone = terminal?.device_id ? terminal.timezone : 'UTC';
    const timeZone = pushTimeZone(timezone, new Date());
    if (terminal?.device_id) await noteTimeZoneSent(db, sn, timeZone.minutes);
    if (isPush3(req.query)) {
      // Its cue to register (PUSH 3.x §7.1): an unknown or pending terminal posts /iclock/registry next.
      if (!terminal?.device_id) return new PushAnswer(200, 'OK');
      const codes = await issueRegistryCode(db, sn, freshRegistryCode());
      cache.forget(sn);
      return new PushAnswer(200, ['registry=ok', `RegistryCode=${codes!.code}`, ...push3Options(terminal, req, timeZone.option, codes!.sessionId)].join('\n') + '\n');
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
    // A registered terminal from the cache (disabling, moving, approving or confirming one NOTIFYs
    // every api process, which drops it); an unknown or pending one is recorded and read fresh.
    const terminal = await lookup(req, sn);
    if (table === 'OPTIONS') {
      if (terminal?.disabled) throw DISABLED;
      // A registered terminal's options only from where it is; a pending one's are bounded (recordOptions).
      if (terminal?.device_id) {
        await admit(terminal, req);
        cache.noteSeen(sn, req.address);
      }
      await recordOptions(db, sn, parseOptions(text));
      return new PushAnswer(200, 'OK: 1');
    }
    const known = await admit(terminal, req);
    cache.noteSeen(sn, req.address);
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
    if (outcome === 'stored') {
      ctx.backlog.accepted();
      observePushLines(table, n);
    }
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
    const terminal = await lookup(req, sn);
    if (terminal?.disabled) throw DISABLED;
    if (!terminal?.device_id) return new PushAnswer(200, 'OK');
    // Held (another address, or without its token): no command, so no roster, leaves for it.
    await admit(terminal, req);
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
    // Results are applied only from where the terminal is: a stranger cannot mark its commands done.
    const terminal = await admit(await findTerminal(db, sn), req);
    cache.noteSeen(sn, req.address);
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
    const version = options.PushVersion ?? options.pushver ?? null;
    const terminal = await fresh(req, sn, version);
    if (terminal?.disabled) throw DISABLED;
    if (terminal?.device_id) {
      await admit(terminal, req);
      await noteContact(db, { serialNumber: sn, address: req.address, pushVersion: versionOf(req, version) });
    }
    await recordOptions(db, sn, options);
    if (!isPush3(req.query, options)) return new PushAnswer(200, 'OK: 1');
    approved(terminal, req.address);
    // The same code at every registration of this terminal (it is the base of its token).
    const codes = await issueRegistryCode(db, sn, freshRegistryCode());
    cache.forget(sn);
    return new PushAnswer(200, `RegistryCode=${codes!.code}`);
  };

  // PUSH 3.x reads its options here after registering (what a 2.x terminal reads at the handshake).
  const pushOptions: Route = async (req) => {
    const sn = serialOf(req);
    const found = await fresh(req, sn);
    if (found?.disabled) throw DISABLED;
    if (!found?.device_id) return new PushAnswer(200, 'OK');
    const terminal = await admit(found, req);
    const timeZone = pushTimeZone(terminal.timezone, new Date());
    await noteTimeZoneSent(db, sn, timeZone.minutes);
    const codes = await issueRegistryCode(db, sn, freshRegistryCode());
    return new PushAnswer(200, push3Options(terminal, req, timeZone.option, codes!.sessionId).join('\n') + '\n');
  };

  // A data query's answer (PUSH 3.x `querydata`) or anything else posted here: kept like an
  // unknown table's upload from a registered terminal, so nothing answered OK is dropped unseen.
  const harmless: Route = async (req) => {
    const sn = serialOf(req);
    if (req.body.length === 0) return new PushAnswer(200, 'OK');
    const found = await findTerminal(db, sn);
    if (found?.device_id && !found.disabled) {
      // Kept only from where the terminal is; from elsewhere, refused (and shown as a claim).
      const terminal = await admit(found, req);
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
  const callerOf = async (sn: string | null, address: string | null, token: string | null): Promise<Caller | 'bad_sn'> => {
    if (!isSerialNumber(sn)) return 'bad_sn';
    const terminal = await cache.lookup(sn);
    if (terminal?.disabled) return 'disabled';
    if (!terminal?.device_id || !addressAllowed(terminal, address)) return 'unregistered';
    // Held calls are read like a stranger's: their uploads are refused unread.
    const verdict = verdictOf(terminal, { query: EMPTY_QUERY, body: EMPTY, address, token }, conflictWindow);
    return verdict === 'held' || verdict === 'no_token' || (verdict === 'conflict' && !trusted(terminal)) ? 'unregistered' : 'registered';
  };

  const admitAndAnswer = async (route: Route, req: IncomingMessage, res: ServerResponse, call: { query: URLSearchParams; address: string | null; token: string | null; path: string }) => {
    let caller: Caller | 'bad_sn';
    try {
      caller = await callerOf(call.query.get('SN') ?? call.query.get('sn'), call.address, call.token);
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
    await answer(route, { query: call.query, body: read.body, address: call.address, token: call.token }, res, call.path);
  };

  return (req, res) => {
    const url = req.url ?? '';
    if (url.length < 8 || url.slice(0, 8).toLowerCase() !== '/iclock/') return false;
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).slice(8).toLowerCase().replace(/\/$/, '').replace(/\.aspx$/, '');
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    // Counted once its answer is sent, whichever route or refusal sent it.
    res.once('finish', () => observePushCall(path, query.get('table'), res.statusCode));
    const methods = routes[path];
    const method = req.method === 'HEAD' ? 'GET' : req.method ?? 'GET';
    const route = methods?.[method] ?? methods?.['*'];
    if (!route) {
      req.resume();
      send(res, methods ? new PushAnswer(405, 'METHOD NOT ALLOWED') : new PushAnswer(404, 'NOT FOUND'));
      return true;
    }
    let address = req.socket.remoteAddress ?? null;
    if (trust) {
      try {
        address = proxyaddr(req, trust);
      } catch {
        // A malformed X-Forwarded-For: the socket's address stands.
      }
    }
    if (address?.startsWith('::ffff:')) address = address.slice(7);
    // Calls per serial number (issue #33 §4): past the bucket, come back later; nothing read or written.
    const sn = query.get('SN') ?? query.get('sn');
    if (isSerialNumber(sn)) {
      const wait = limiter.take(sn);
      if (wait > 0) {
        if (method === 'GET') req.resume();
        send(res, new PushAnswer(503, 'SERVER BUSY', { 'Retry-After': String(wait), ...(method !== 'GET' && { Connection: 'close' }) }));
        return true;
      }
    }
    const token = tokenOf(req.headers.cookie);
    if (method === 'GET') {
      req.resume();
      void answer(route, { query, body: EMPTY, address, token }, res, path);
      return true;
    }
    // Terminals send text under any content type; the body is read as raw bytes, decoded as UTF-8,
    // once the caller is known to be allowed to send it (api/push/body.ts).
    void admitAndAnswer(route, req, res, { query, address, token, path });
    return true;
  };
}

/**
 * The option list of a Security PUSH 3.x terminal (its handshake after `registry=ok`, and
 * /iclock/push): the same settings as a 2.x handshake under the names this firmware reads.
 */
function push3Options(terminal: TerminalLookup & { device_id: string | null }, req: PushRequest, timeZone: number, sessionId: string): string[] {
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
    `SessionID=${sessionId}`,
    'TimeoutSec=10',
    `TimeZone=${timeZone}`,
  ];
}

const EMPTY = Buffer.alloc(0);
const EMPTY_QUERY = new URLSearchParams();
const IDLE = new PushAnswer(200, 'OK');

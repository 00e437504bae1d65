// The PUSH (iclock) endpoints (../shared/PUSH.md): plain text in, plain text out, never JSON.
// A terminal keeps its records until it reads the expected `OK…`, so every refusal is an answer
// other than `OK` and every `OK: <n>` is sent after the commit of what it acknowledges.
import { randomUUID } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { sendInTransaction } from '../../db/queue.js';
import {
  countFingerprints, deviceStillEnabled, findTerminal, hasOpenCommands, insertPushSession, noteContact, raiseStamp, recordCommandResults, recordOptions, sameBatchSession,
  storeOperlog, takeCommandsToSend, upsertTerminalUsers, hasCommandsDue, failUnansweredCommands, type TerminalLookup,
} from '../../db/repositories/push.js';
import { sha256 } from '../../shared/archive/hash.js';
import { QUEUES, type ImportBatchJob } from '../../shared/jobs.js';
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

function send(res: Response, answer: PushAnswer): void {
  res.status(answer.status).set({ 'Content-Type': 'text/plain; charset=utf-8', ...answer.headers }).send(answer.body);
}

function serialOf(req: Request): string {
  const sn = req.query.SN ?? req.query.sn;
  if (!isSerialNumber(sn)) throw BAD_SN;
  return sn;
}

function tableOf(req: Request): Table {
  const table = typeof req.query.table === 'string' ? req.query.table.toUpperCase() : '';
  if (table === 'ATTLOG' || table === 'OPERLOG' || table === 'USERINFO') return table;
  if (table === 'OPTIONS') return 'OPTIONS';
  return 'OTHER';
}

function bodyText(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
}

function addressOf(req: Request): string | null {
  const ip = req.ip ?? req.socket.remoteAddress ?? null;
  return ip?.startsWith('::ffff:') ? ip.slice(7) : ip;
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

/** A registered, enabled terminal calling from an allowed address, or the refusal PUSH.md §1–§2 gives. */
function approved(terminal: TerminalLookup | undefined, address: string | null): TerminalLookup & { device_id: string; school_id: number } {
  if (!terminal || terminal.device_id === null || terminal.school_id === null) throw NOT_APPROVED;
  if (terminal.disabled) throw DISABLED;
  if (!addressAllowed(terminal, address)) throw NOT_APPROVED;
  return terminal as TerminalLookup & { device_id: string; school_id: number };
}

function stampOf(req: Request): number | null {
  const raw = req.query.Stamp ?? req.query.stamp;
  return typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

export function iclockRouter(ctx: AppContext): Router {
  const router = express.Router();
  const { db, logger } = ctx;
  const cache = ctx.push;
  const resend = { resendAfterSeconds: ctx.config.pushCommandAnswerSeconds, maxSends: ctx.config.pushCommandMaxSends };
  // Terminals send text under any content type; the body is read as raw bytes, decoded as UTF-8.
  const body = express.raw({ type: () => true, limit: PUSH_MAX_BODY_BYTES });

  const handle = (fn: (req: Request) => Promise<PushAnswer>) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      send(res, await fn(req));
    } catch (err) {
      if (err instanceof PushAnswer) send(res, err);
      else next(err);
    }
  };

  /** First contact, or any contact: records the SN (pending when unknown) and its address. */
  const contact = async (req: Request, sn: string): Promise<TerminalLookup | undefined> => {
    const pushVersion = typeof req.query.pushver === 'string' ? req.query.pushver.slice(0, 32) : null;
    await noteContact(db, { serialNumber: sn, address: addressOf(req), pushVersion });
    return findTerminal(db, sn);
  };

  // Handshake (PUSH.md §3). A pending terminal gets its options too, so that it can report its
  // model and firmware (options upload, INFO); its uploads are refused until it is approved.
  router.get(['/iclock/cdata', '/iclock/cdata.aspx'], handle(async (req) => {
    const sn = serialOf(req);
    const terminal = await contact(req, sn);
    if (terminal?.disabled) throw DISABLED;
    if (terminal?.device_id && !addressAllowed(terminal, addressOf(req))) throw NOT_APPROVED;
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
  }));

  router.post(['/iclock/cdata', '/iclock/cdata.aspx'], body, handle(async (req) => {
    const sn = serialOf(req);
    const table = tableOf(req);
    const text = bodyText(req);
    // A registered terminal from the cache (disabling, moving or approving one NOTIFYs every api
    // process, which drops it); an unknown or pending one is recorded and read fresh.
    let terminal = await cache.lookup(sn);
    // A refusal is always read fresh: staff who just approved, enabled or widened the allow-list are obeyed at once.
    if (terminal?.device_id && !terminal.disabled && addressAllowed(terminal, addressOf(req))) cache.noteSeen(sn, addressOf(req));
    else {
      terminal = await contact(req, sn);
      cache.forget(sn);
    }
    if (table === 'OPTIONS') {
      if (terminal?.disabled) throw DISABLED;
      await recordOptions(db, sn, parseOptions(text));
      return new PushAnswer(200, 'OK: 1');
    }
    const known = approved(terminal, addressOf(req));
    if (table === 'ATTLOG') return acceptAttlog(req, known, text);
    if (table === 'OPERLOG' || table === 'USERINFO') return acceptOperlog(req, known, text);
    // ATTPHOTO and other tables: accepted and not kept (PUSH.md §4).
    return new PushAnswer(200, 'OK');
  }));

  /** PUSH.md §4: stored as a session whose archive is the body, its import queued, in one transaction; then `OK: <n>`. */
  const acceptAttlog = async (req: Request, terminal: TerminalLookup & { device_id: string }, text: string): Promise<PushAnswer> => {
    const n = bodyLines(text).length;
    const archive = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (n === 0) return new PushAnswer(200, 'OK: 0');
    const hash = sha256(archive);
    const stamp = stampOf(req);
    // The same bytes again after a lost answer: already stored and queued (or imported), so `OK` again.
    if (await sameBatchSession(db, terminal.device_id, hash)) {
      if (stamp !== null) await raiseStamp(db, terminal.serial_number, 'ATTLOG', stamp);
      return new PushAnswer(200, `OK: ${n}`);
    }
    if (await ctx.backlog.full()) {
      return new PushAnswer(503, 'SERVER BUSY', { 'Retry-After': String(ctx.config.importRetryAfterSeconds) });
    }
    const sessionId = randomUUID();
    const jobId = randomUUID();
    await db.transaction().execute(async (trx) => {
      // Read again under a share lock: a disable committed before this point refuses the batch,
      // one arriving later waits for this commit (the cached lookup may be a few ms old).
      if (!(await deviceStillEnabled(trx, terminal.device_id))) throw DISABLED;
      await insertPushSession(trx, { id: sessionId, device_id: terminal.device_id, archive, archive_sha256: hash, job_id: jobId });
      if (stamp !== null) await raiseStamp(trx, terminal.serial_number, 'ATTLOG', stamp);
      const job: ImportBatchJob = { session_id: sessionId };
      const sent = await sendInTransaction(ctx.boss, trx, QUEUES.importBatch, job, { id: jobId });
      if (sent !== jobId) throw new Error(`pg-boss did not create import job ${jobId} (got ${String(sent)})`);
    });
    ctx.backlog.accepted();
    logger.info({ sn: terminal.serial_number, sessionId, lines: n }, 'push: ATTLOG batch accepted');
    return new PushAnswer(200, `OK: ${n}`);
  };

  /** OPERLOG (and USERINFO answers): the operation log and the users the terminal reports, in one transaction. */
  const acceptOperlog = async (req: Request, terminal: TerminalLookup & { device_id: string }, text: string): Promise<PushAnswer> => {
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

  // The hottest call (PUSH.md §5): from memory when nothing is due.
  router.get(['/iclock/getrequest', '/iclock/getrequest.aspx'], handle(async (req) => {
    const sn = serialOf(req);
    const address = addressOf(req);
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
    if (typeof req.query.INFO === 'string') await noteInfo(sn, req.query.INFO);
    const deviceId = terminal.device_id;
    if (cache.isIdle(deviceId)) return new PushAnswer(200, 'OK');
    const ticket = cache.ticket(deviceId);
    // Most misses find nothing open at all: one indexed read, then idle again.
    if (!(await hasOpenCommands(db, deviceId))) {
      cache.markIdle(deviceId, ticket, null);
      return new PushAnswer(200, 'OK');
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
      return new PushAnswer(200, 'OK');
    }
    logger.info({ sn, commands: commands.map((c) => c.id) }, 'push: commands sent');
    return new PushAnswer(200, commands.map((c) => `C:${c.id}:${c.command}`).join('\n') + '\n');
  }));

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

  // Command results (PUSH.md §5): one per line; a shell result may span several lines.
  router.post(['/iclock/devicecmd', '/iclock/devicecmd.aspx'], body, handle(async (req) => {
    const sn = serialOf(req);
    const terminal = approved(await findTerminal(db, sn), addressOf(req));
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
  }));

  // Some firmware register through these; harmless: answer OK (registry carries options).
  router.post(['/iclock/registry', '/iclock/registry.aspx'], body, handle(async (req) => {
    const sn = serialOf(req);
    const terminal = await contact(req, sn);
    if (terminal?.disabled) throw DISABLED;
    await recordOptions(db, sn, parseOptions(bodyText(req)));
    return new PushAnswer(200, 'OK: 1');
  }));
  router.all(['/iclock/ping', '/iclock/ping.aspx', '/iclock/push', '/iclock/push.aspx', '/iclock/querydata', '/iclock/querydata.aspx', '/iclock/registry', '/iclock/registry.aspx'], body, handle(async (req) => {
    serialOf(req);
    return new PushAnswer(200, 'OK');
  }));

  router.use('/iclock', (err: Error & { type?: string; status?: number }, req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.too.large') return send(res, new PushAnswer(413, 'BODY TOO LARGE'));
    if (err.status && err.status >= 400 && err.status < 500) return send(res, new PushAnswer(400, 'BAD REQUEST'));
    logger.error({ err, path: req.path }, 'push: request failed; nothing stored');
    return send(res, new PushAnswer(500, 'ERROR'));
  });
  return router;
}

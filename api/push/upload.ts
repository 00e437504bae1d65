// Uploads (POST /iclock/cdata?table=…, docs/protocol/push.md §4): punches, the operation log and
// users, options, photos and any other table. Every `OK: <n>` is sent after the commit of what it
// acknowledges; a body that cannot be stored is answered 500 (api/push/routes.ts), never OK.
import { randomUUID } from 'node:crypto';
import { countFingerprints, storeOperlog, upsertTerminalUsers } from '../../db/repositories/push/terminal-users.js';
import { raiseStamp, recordOptions } from '../../db/repositories/push/terminals.js';
import { sameBatchSession, storeAttlogBatch, storeUpload } from '../../db/repositories/push/uploads.js';
import { sha256 } from '../../shared/archive/hash.js';
import { bodyLines, parseOperlogLine, parseOptions, pushText, type TerminalUser } from '../../shared/protocol/push.js';
import { observePushLines } from '../http/metrics.js';
import { bodyText, DISABLED, PushAnswer, serialOf, stampOf, tableOf, type PushRequest } from './answer.js';
import type { PushDeps, PushHandler, PushRoutes } from './route.js';
import type { Admitted } from './terminal-access.js';

const upload: PushHandler = async (req, deps) => {
  const { ctx, access } = deps;
  const sn = serialOf(req);
  const table = tableOf(req);
  const text = bodyText(req);
  // A registered terminal from the cache (disabling, moving, approving or confirming one NOTIFYs
  // every api process, which drops it); an unknown or pending one is recorded and read fresh.
  const terminal = await access.lookup(req, sn);
  if (table === 'OPTIONS') {
    if (terminal?.disabled) throw DISABLED;
    // A registered terminal's options only from where it is; a pending one's are bounded (recordOptions).
    let schoolId: number | null = null;
    if (terminal?.device_id) {
      schoolId = (await access.admit(terminal, req)).school_id;
      ctx.push.noteSeen(sn, req.address);
    }
    await recordOptions(ctx.db, { schoolId, serialNumber: sn }, parseOptions(text));
    return new PushAnswer(200, 'OK: 1');
  }
  const known = await access.admit(terminal, req);
  ctx.push.noteSeen(sn, req.address);
  if (table === 'ATTLOG') return acceptPunches(req, deps, known, 'ATTLOG');
  if (table === 'RTLOG') return acceptPunches(req, deps, known, 'rtlog');
  if (table === 'OPERLOG' || table === 'USERINFO') return acceptOperlog(req, deps, known, text);
  // Photos: accepted and not kept (docs/protocol/push.md §4 allows it; they are large and no figure reads them).
  if (table === 'ATTPHOTO') return new PushAnswer(200, 'OK');
  return acceptOther(req, deps, known);
};

/** The name an upload of a table we do not import is kept under: `table=` as sent, with `tablename=` for tabledata (PUSH 3.x). */
function otherTableName(req: PushRequest): string {
  const table = (req.query.get('table') ?? '').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 32) || '(none)';
  const name = req.query.get('tablename')?.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 30);
  return name ? `${table}:${name}` : table;
}

/**
 * Any other table (docs/protocol/push.md §4): the terminal deletes what it is answered OK for, so the body is
 * kept with the terminal first (push_uploads, shown to staff); a body that cannot be stored is
 * answered 500 by the caller, never OK. PUSH 3.x `tabledata` is acknowledged as the vendor
 * writes it, `<tablename>=<count>`: a plain OK makes the terminal send the same records again.
 */
const acceptOther = async (req: PushRequest, { ctx }: PushDeps, terminal: Admitted): Promise<PushAnswer> => {
  if (req.body.length > 0) await storeUpload(ctx.db, { deviceId: terminal.device_id, table: otherTableName(req), body: req.body, sha256: sha256(req.body) });
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
const acceptPunches = async (req: PushRequest, { ctx }: PushDeps, terminal: Admitted, table: 'ATTLOG' | 'rtlog'): Promise<PushAnswer> => {
  const archive = req.body;
  const n = bodyLines(pushText(archive)).length;
  const ok = new PushAnswer(200, table === 'ATTLOG' ? `OK: ${n}` : 'OK');
  if (n === 0) return ok;
  const hash = sha256(archive);
  if (await ctx.backlog.full()) {
    // The same bytes again after a lost answer: already stored, so `OK` even now.
    if (await sameBatchSession(ctx.db, terminal.school_id, terminal.device_id, hash)) return ok;
    return new PushAnswer(503, 'SERVER BUSY', { 'Retry-After': String(ctx.config.importRetryAfterSeconds) });
  }
  const outcome = await storeAttlogBatch(ctx.db, {
    sessionId: randomUUID(), schoolId: terminal.school_id, deviceId: terminal.device_id, serialNumber: terminal.serial_number, archive, sha256: hash, stamp: stampOf(req), table,
  });
  if (outcome === 'disabled') throw DISABLED;
  if (outcome === 'stored') {
    ctx.backlog.accepted();
    observePushLines(table, n);
  }
  return ok;
};

/** OPERLOG (and USERINFO answers): the operation log and the users the terminal reports, in one transaction. */
const acceptOperlog = async (req: PushRequest, { ctx }: PushDeps, terminal: Admitted, text: string): Promise<PushAnswer> => {
  const lines = bodyLines(text);
  const users: TerminalUser[] = [];
  const fingerprints: string[] = [];
  for (const line of lines) {
    const parsed = parseOperlogLine(line);
    if (parsed.kind === 'user') users.push(parsed.user);
    else if (parsed.kind === 'fingerprint') fingerprints.push(parsed.pin);
  }
  const stamp = stampOf(req);
  await ctx.db.transaction().execute(async (trx) => {
    await storeOperlog(trx, terminal.device_id, lines);
    await upsertTerminalUsers(trx, terminal.device_id, users);
    await countFingerprints(trx, terminal.device_id, fingerprints);
    if (stamp !== null) await raiseStamp(trx, terminal.school_id, terminal.serial_number, 'OPERLOG', stamp);
  });
  return new PushAnswer(200, `OK: ${lines.length}`);
};

export function uploadRoutes(push: PushRoutes): void {
  push.add({ method: 'POST', path: 'cdata', summary: 'An upload: punches, operation log, users, options or another table', handler: upload });
}

// How much of a PUSH call's body is read, decided before its first byte (issue 33 §3): the
// terminal is named in the query string, so an unknown, pending, disabled or misplaced caller
// is answered without being read, a registered one may send what its table needs, a process
// holds at most PUSH_MAX_IN_FLIGHT_BYTES of bodies at once (503 + Retry-After past it), and a
// body that trickles in is cut off after PUSH_BODY_TIMEOUT_SECONDS. Before, anyone could make
// an api hold 4 MiB per connection for as long as they liked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PUSH_MAX_BODY_BYTES } from '../../shared/protocol/push.js';
import type { InFlightBudget } from '../http/in-flight-budget.js';

/** An options list, a registration, a command result: a few KiB on real firmware. */
const SMALL = 64 * 1024;
/** What a terminal not (yet) allowed to upload may send: its options and its registration. */
const UNREGISTERED = 16 * 1024;
const OTHER_TABLE = 1024 * 1024;

/** Who is calling, as far as the query string and the terminal's record tell. */
export type Caller = 'registered' | 'unregistered' | 'disabled';

/**
 * The most bytes the call may send, or 0 when its route refuses this caller whatever the body
 * says (it then runs with an empty body and gives its refusal, and the connection is closed).
 */
export function bodyLimit(path: string, table: string, caller: Caller): number {
  if (caller === 'disabled') return 0;
  const t = table.toUpperCase();
  if (caller === 'unregistered') {
    // First contact is recorded from the options and the registry; every upload is refused unread.
    return (path === 'cdata' && t === 'OPTIONS') || path === 'registry' || path === 'push' || path === 'ping' ? UNREGISTERED : 0;
  }
  if (path === 'cdata') {
    if (t === 'OPTIONS') return SMALL;
    if (t === 'ATTLOG' || t === 'RTLOG' || t === 'OPERLOG' || t === 'USERINFO' || t === 'ATTPHOTO') return PUSH_MAX_BODY_BYTES;
    return OTHER_TABLE;
  }
  if (path === 'devicecmd' || path === 'querydata') return OTHER_TABLE;
  return SMALL;
}

export type BodyRead = { ok: true; body: Buffer } | { ok: false; status: number; text: string; headers: Record<string, string> };

const EMPTY = Buffer.alloc(0);
const CLOSE = { Connection: 'close' };

/**
 * Reads the body within `limit` bytes, `timeoutMs` and the process's budget. A refusal closes
 * the connection: what the caller is still sending is not read.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, opts: { limit: number; timeoutMs: number; budget: InFlightBudget; retryAfterSeconds: number }): Promise<BodyRead> {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (opts.limit === 0) return Promise.resolve({ ok: true, body: EMPTY });
  if (declared !== null && (!Number.isSafeInteger(declared) || declared > opts.limit)) {
    return Promise.resolve({ ok: false, status: 413, text: 'BODY TOO LARGE', headers: CLOSE });
  }
  if (declared === 0) return Promise.resolve({ ok: true, body: EMPTY });
  // A chunked body of unknown size reserves the most it may be.
  if (!opts.budget.reserve(declared ?? opts.limit, res)) {
    return Promise.resolve({ ok: false, status: 503, text: 'SERVER BUSY', headers: { ...CLOSE, 'Retry-After': String(opts.retryAfterSeconds) } });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (outcome: BodyRead) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.removeListener('data', onData);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, status: 408, text: 'REQUEST TIMEOUT', headers: CLOSE }), opts.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > opts.limit) finish({ ok: false, status: 413, text: 'BODY TOO LARGE', headers: CLOSE });
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => finish({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
    req.on('error', () => finish({ ok: false, status: 400, text: 'BAD REQUEST', headers: CLOSE }));
    req.on('close', () => finish({ ok: false, status: 400, text: 'BAD REQUEST', headers: CLOSE }));
  });
}

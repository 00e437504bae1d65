// What a PUSH route reads of a call and what it answers (docs/protocol/push.md): plain text in,
// plain text out, never JSON. A terminal keeps its records until it reads the expected `OK…`, so
// every refusal is an answer other than `OK`.
import type { ServerResponse } from 'node:http';
import { isSerialNumber, pushText } from '../../shared/protocol/push.js';

export class PushAnswer {
  constructor(readonly status: number, readonly body: string, readonly headers: Record<string, string> = {}) {}
}

export const BAD_SN = new PushAnswer(400, 'BAD SN');
export const DISABLED = new PushAnswer(403, 'DEVICE DISABLED');
export const NOT_APPROVED = new PushAnswer(403, 'DEVICE NOT APPROVED');
/** An idle poll's answer, and every plain acknowledgement. */
export const IDLE = new PushAnswer(200, 'OK');

/** What a route reads of a call: the query, the body (raw bytes), the caller's address, the token its Cookie carries (PUSH 3.x). */
export interface PushRequest {
  query: URLSearchParams;
  body: Buffer;
  address: string | null;
  token: string | null;
}

export const EMPTY = Buffer.alloc(0);
export const EMPTY_QUERY = new URLSearchParams();

/** The one writer of PUSH answers: status, plain text, its length, and the answer's own headers. */
export function sendAnswer(res: ServerResponse, answer: PushAnswer): void {
  res.writeHead(answer.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(answer.body), ...answer.headers });
  res.end(answer.body);
}

export function serialOf(req: PushRequest): string {
  const sn = req.query.get('SN') ?? req.query.get('sn');
  if (!isSerialNumber(sn)) throw BAD_SN;
  return sn;
}

export type Table = 'ATTLOG' | 'RTLOG' | 'OPERLOG' | 'USERINFO' | 'OPTIONS' | 'ATTPHOTO' | 'OTHER';

export function tableOf(req: PushRequest): Table {
  const table = (req.query.get('table') ?? '').toUpperCase();
  if (table === 'ATTLOG' || table === 'OPERLOG' || table === 'USERINFO' || table === 'OPTIONS' || table === 'RTLOG' || table === 'ATTPHOTO') return table;
  return 'OTHER';
}

export function stampOf(req: PushRequest): number | null {
  const raw = req.query.get('Stamp') ?? req.query.get('stamp');
  return raw !== null && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

export function bodyText(req: PushRequest): string {
  return pushText(req.body);
}

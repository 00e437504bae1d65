// One `marks.csv` row on `appel` (docs/protocol/v4.md §7.4): a teacher's roll-call mark. Checks run
// in this order: record_id → user_id → date → period → mark → reason → marked_at. An excuse
// needs a reason from the school's list, any other mark has none (`invalid_reason`).
import { MARK_KINDS, MARK_REASONS, type MarkKind, type MarkReason } from '../attendance/marks.js';
import { MAX_USER_ID, checkTime, isShortText, parseRecordId, parseUserId, refusal, scalar, type RowContext, type RowResult } from './row-fields.js';
import { RECORD_ID_RULE } from './row-rules.js';

export const MARK_COLUMNS = {
  required: ['record_id', 'user_id', 'date', 'mark', 'marked_at'],
  optional: ['period', 'reason'],
} as const;

export const MAX_PERIOD_LENGTH = 40;

export interface MarkRow {
  recordId: number;
  userId: number;
  date: string;
  period: string | null;
  mark: MarkKind;
  reason: MarkReason | null;
  markedAt: Date;
}

/** A real calendar date, 'YYYY-MM-DD'. */
function parseDate(raw: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) return null;
  const d = new Date(`${raw}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === raw && raw >= '2010-01-01' ? raw : null;
}

export function validateMarkRow(fields: Readonly<Record<string, string>>, ctx: RowContext): RowResult<MarkRow> {
  const rawRecordId = scalar(fields.record_id);
  const recordId = parseRecordId(rawRecordId);
  if (recordId === null) return refusal('invalid_record_id', 'record_id', rawRecordId, RECORD_ID_RULE);
  const rawUserId = scalar(fields.user_id);
  const userId = parseUserId(rawUserId);
  if (userId === null) return refusal('unknown_user', 'user_id', rawUserId, `is not a user id (an integer from 1 to ${MAX_USER_ID})`, recordId);
  const rawDate = scalar(fields.date);
  const date = parseDate(rawDate);
  if (date === null) return refusal('invalid_date', 'date', rawDate, 'is not a real YYYY-MM-DD date from 2010 on', recordId);
  const period = scalar(fields.period);
  if (period !== '' && !isShortText(period, MAX_PERIOD_LENGTH)) return refusal('invalid_period', 'period', period, `is not 1–${MAX_PERIOD_LENGTH} printable characters`, recordId);
  const mark = scalar(fields.mark);
  if (!(MARK_KINDS as readonly string[]).includes(mark)) return refusal('invalid_mark', 'mark', mark, `is not ${MARK_KINDS.slice(0, -1).join(', ')} or ${MARK_KINDS[MARK_KINDS.length - 1]}`, recordId);
  const reason = scalar(fields.reason);
  if (mark === 'excused' && !(MARK_REASONS as readonly string[]).includes(reason)) {
    return refusal('invalid_reason', 'reason', reason, `is not one of ${MARK_REASONS.join(', ')} (an excused mark needs one)`, recordId);
  }
  if (mark !== 'excused' && reason !== '') return refusal('invalid_reason', 'reason', reason, `is given on a ${mark} mark: only an excused mark has a reason`, recordId);
  const rawTime = scalar(fields.marked_at);
  const time = checkTime(rawTime, ctx);
  if (!time.ok) return refusal(time.code, 'marked_at', rawTime, time.rule, recordId);
  // A roll call marks a day that has begun: not after the day the batch was received (UTC+14 at most ahead).
  if (date > new Date(ctx.receivedAt.getTime() + 14 * 3600_000).toISOString().slice(0, 10)) {
    return refusal('in_future', 'date', date, 'is a day that has not begun anywhere when the server received the batch', recordId);
  }
  return { ok: true, row: { recordId, userId, date, period: period === '' ? null : period, mark: mark as MarkKind, reason: reason === '' ? null : reason as MarkReason, markedAt: time.at } };
}

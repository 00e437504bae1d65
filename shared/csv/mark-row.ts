// One `marks.csv` row on `appel` (docs/protocol/v4.md §7.4): a teacher's roll-call mark. Checks run
// in this order: record_id → user_id → date → period → mark → reason → marked_at. An excuse
// needs a reason from the school's list, any other mark has none (`invalid_reason`).
import { MARK_KINDS, MARK_REASONS, type MarkKind, type MarkReason } from '../attendance/marks.js';
import { checkTime, isShortText, parseRecordId, parseUserId, scalar, type RowContext, type RowResult } from './row-fields.js';

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
  const recordId = parseRecordId(scalar(fields.record_id));
  if (recordId === null) return { ok: false, code: 'invalid_record_id' };
  const userId = parseUserId(scalar(fields.user_id));
  if (userId === null) return { ok: false, code: 'unknown_user', recordId };
  const date = parseDate(scalar(fields.date));
  if (date === null) return { ok: false, code: 'invalid_date', recordId };
  const period = scalar(fields.period);
  if (period !== '' && !isShortText(period, MAX_PERIOD_LENGTH)) return { ok: false, code: 'invalid_period', recordId };
  const mark = scalar(fields.mark);
  if (!(MARK_KINDS as readonly string[]).includes(mark)) return { ok: false, code: 'invalid_mark', recordId };
  const reason = scalar(fields.reason);
  if (mark === 'excused' ? !(MARK_REASONS as readonly string[]).includes(reason) : reason !== '') return { ok: false, code: 'invalid_reason', recordId };
  const time = checkTime(scalar(fields.marked_at), ctx);
  if (!time.ok) return { ok: false, code: time.code, recordId };
  // A roll call marks a day that has begun: not after the day the batch was received (UTC+14 at most ahead).
  if (date > new Date(ctx.receivedAt.getTime() + 14 * 3600_000).toISOString().slice(0, 10)) return { ok: false, code: 'in_future', recordId };
  return { ok: true, row: { recordId, userId, date, period: period === '' ? null : period, mark: mark as MarkKind, reason: reason === '' ? null : reason as MarkReason, markedAt: time.at } };
}

// One `messages.csv` row on `messagerie` (docs/protocol/v4.md §7): a message from the device to the
// school's admins. Checks run in this order: record_id → created_at → kind → body. A kind other
// than `info`/`incident` is `invalid_type` (the "type" column's code); a body that is empty,
// longer than 1,000 characters (code points) or holds control characters other than tab and
// line breaks has no code of its own: `malformed_row`. The body is kept as sent, untrimmed.

import { checkTime, parseRecordId, scalar, type RowContext, type RowResult } from './row-fields.js';

/** Spread into readCsvLog's spec: bodies may span lines inside quotes, unlike the other logs. */
export const MESSAGE_COLUMNS = {
  required: ['record_id', 'created_at', 'kind', 'body'],
  optional: [],
  multiline: true,
} as const;

export const MAX_MESSAGE_BODY_LENGTH = 1000;
const BODY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface MessageRow {
  recordId: number;
  createdAt: Date;
  kind: 'info' | 'incident';
  body: string;
}

export function validateMessageRow(fields: Readonly<Record<string, string>>, ctx: RowContext): RowResult<MessageRow> {
  const recordId = parseRecordId(scalar(fields.record_id));
  if (recordId === null) return { ok: false, code: 'invalid_record_id' };

  const time = checkTime(scalar(fields.created_at), ctx);
  if (!time.ok) return { ok: false, code: time.code, recordId };

  const kind = scalar(fields.kind);
  if (kind !== 'info' && kind !== 'incident') return { ok: false, code: 'invalid_type', recordId };

  const body = fields.body ?? '';
  if (body.trim() === '' || [...body].length > MAX_MESSAGE_BODY_LENGTH || BODY_CONTROL.test(body)) {
    return { ok: false, code: 'malformed_row', recordId };
  }
  return { ok: true, row: { recordId, createdAt: time.at, kind, body } };
}

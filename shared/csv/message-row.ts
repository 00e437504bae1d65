// One `messages.csv` row on `messagerie` (docs/protocol/v4.md §7): a message from the device to the
// school's admins. Checks run in this order: record_id → created_at → kind → body. A kind other
// than `info`/`incident` is `invalid_type` (the "type" column's code); a body that is empty,
// longer than 1,000 characters (code points) or holds control characters other than tab and
// line breaks has no code of its own: `malformed_row`. The body is kept as sent, untrimmed.

import { checkTime, parseRecordId, refusal, scalar, type RowContext, type RowResult } from './row-fields.js';
import { RECORD_ID_RULE } from './row-rules.js';

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
  const rawRecordId = scalar(fields.record_id);
  const recordId = parseRecordId(rawRecordId);
  if (recordId === null) return refusal('invalid_record_id', 'record_id', rawRecordId, RECORD_ID_RULE);

  const rawTime = scalar(fields.created_at);
  const time = checkTime(rawTime, ctx);
  if (!time.ok) return refusal(time.code, 'created_at', rawTime, time.rule, recordId);

  const kind = scalar(fields.kind);
  if (kind !== 'info' && kind !== 'incident') return refusal('invalid_type', 'kind', kind, 'is not info or incident', recordId);

  const body = fields.body ?? '';
  // The body's words are the sender's: the detail says what is wrong, not what it says.
  if (body.trim() === '') return { ok: false, code: 'malformed_row', recordId, detail: 'body: is empty' };
  const length = [...body].length;
  if (length > MAX_MESSAGE_BODY_LENGTH) return { ok: false, code: 'malformed_row', recordId, detail: `body: ${length} characters, more than ${MAX_MESSAGE_BODY_LENGTH}` };
  if (BODY_CONTROL.test(body)) return { ok: false, code: 'malformed_row', recordId, detail: 'body: holds a control character other than tab and line breaks' };
  return { ok: true, row: { recordId, createdAt: time.at, kind, body } };
}

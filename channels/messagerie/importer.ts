// `messagerie` (docs/protocol/v4.md §7): messages.csv up (shown to the school's admins, GET
// /api/messages?direction=from_devices); down, every unexpired office message addressed to the
// device or its school and not yet delivered to it, and the school's fever alerts not yet
// delivered. Delivered means acknowledged: the package records what it offered, and the
// acknowledgement writes one delivery row per (message, device) — so a package that is never
// acknowledged (reset, failure) delivers nothing and its messages go in the next one.
import { insertDeviceMessages, storedDeviceMessages, undeliveredAlerts, undeliveredMessages } from '../../db/repositories/messages.js';
import { MESSAGE_COLUMNS, validateMessageRow, type MessageRow } from '../../shared/csv/message-row.js';
import { importCsvLog, type CsvLog } from '../kit/csv-log.js';
import type { ChannelImporter } from '../kit/importer.js';
import { MESSAGES_FILE } from './description.js';

/** Per package; what is left waits for the next sync. */
const MAX_MESSAGES = 200;
const MAX_ALERTS = 200;

const messagesLog: CsvLog<MessageRow, { kind: string; body: string; created_at: Date }> = {
  file: MESSAGES_FILE,
  columns: MESSAGE_COLUMNS,
  validate: validateMessageRow,
  insert: (ctx, rows) => insertDeviceMessages(ctx.trx, { schoolId: ctx.device.schoolId, deviceId: ctx.device.id, sessionId: ctx.session.id }, rows),
  stored: (ctx, recordIds) => storedDeviceMessages(ctx.trx, ctx.device.schoolId, ctx.device.id, recordIds),
  sameContent: (row, s) => s.kind === row.kind && s.body === row.body && s.created_at.getTime() === row.createdAt.getTime(),
};

export const messagerieImporter: ChannelImporter = {
  name: 'messagerie',
  import: (ctx) => importCsvLog(ctx, messagesLog),

  async buildPackage(ctx) {
    const device = { id: ctx.device.id, schoolId: ctx.device.schoolId };
    const messages = await undeliveredMessages(ctx.trx, device, ctx.now, MAX_MESSAGES);
    const alerts = await undeliveredAlerts(ctx.trx, device, MAX_ALERTS);
    for (const m of messages) {
      ctx.out.messages.push({ id: m.id, priority: m.priority, createdAt: m.created_at, expiresAt: m.expires_at, text: m.body });
    }
    for (const a of alerts) {
      ctx.out.alerts.push({ kind: 'fever', recordId: a.record_id === null ? null : Number(a.record_id), userId: a.user_id === null ? null : Number(a.user_id), temperature: a.temperature, measuredAt: a.occurred_at });
    }
    ctx.out.offered = { messages: messages.map((m) => Number(m.id)), alerts: alerts.map((a) => Number(a.id)) };
  },
};

// `messagerie` (docs/protocol/v4.md §7): messages.csv up, office messages and fever alerts down.
// Delivered means acknowledged: the package records what it offered (channels/messagerie/importer.ts),
// and the acknowledgement writes one delivery row per (message, device) — so a package that is
// never acknowledged (reset, failure) delivers nothing and its messages go in the next one.
import { recordDeliveries } from '../../db/repositories/messages.js';
import { offeredBySession } from '../../db/repositories/sync.js';
import type { ChannelDescription } from '../description/definition.js';

export const MESSAGES_FILE = 'messages.csv';

export const messagerieChannel: ChannelDescription = {
  name: 'messagerie',
  upload: { name: 'messagerie', xmlFiles: ['device.xml'], csvLogs: [MESSAGES_FILE] },

  async acknowledged(trx, { schoolId, deviceId, sessionId }) {
    const offered = await offeredBySession(trx, schoolId, sessionId);
    if (offered) await recordDeliveries(trx, schoolId, deviceId, sessionId, offered);
  },
};

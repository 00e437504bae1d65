// `synchro` (docs/protocol/v4.md §4–§6): device.xml, settings.xml when asked, attendances.csv up. The
// manifest offers a RESEND_SINCE window; flags ride on this channel only and are applied when
// its packages are acknowledged.
import { deviceTimeZone, recordResendOffer } from '../../db/repositories/flags.js';
import { readState } from '../../db/repositories/sync.js';
import { SYNC_STATUS } from '../../shared/protocol/codes.js';
import { resendWindow } from '../../shared/protocol/resend.js';
import { DEVICE_XML, type ChannelDescription, type ManifestExtras } from '../description/definition.js';

export const ATTENDANCES_FILE = 'attendances.csv';

export const synchroChannel: ChannelDescription = {
  name: 'synchro',
  upload: { name: 'synchro', xmlFiles: ['device.xml', 'settings.xml'], csvLogs: [ATTENDANCES_FILE] },

  wantedFiles(flags) {
    const files = [DEVICE_XML];
    if (flags.some((f) => f.name === 'REPORT_SETTINGS')) files.push({ name: 'settings.xml', required: true });
    return files;
  },

  async manifest({ db, schoolId, deviceId, flags, now }) {
    const extras: ManifestExtras = {};
    const resendFlag = flags.find((f) => f.name === 'RESEND_SINCE');
    const resend = resendFlag ? resendWindow([resendFlag], now, await deviceTimeZone(db, schoolId, deviceId)) : null;
    if (resendFlag && resend) {
      extras.resend = resend;
      // Remember what was offered: only a batch uploaded after this offer covers the window (channels/kit/flags.ts).
      // While a batch is in hand (status 1 or 2) the manifest is informative only and the offer stands.
      const state = await readState(db, schoolId, deviceId, 'synchro');
      if ((state?.status ?? SYNC_STATUS.idle) === SYNC_STATUS.idle) await recordResendOffer(db, schoolId, resendFlag.id, resend);
    }
    return extras;
  },

  // Its flags are applied by the acknowledgement's own statement (db/repositories/sync.ts
  // `acknowledge`), which then needs no transaction around it.
};

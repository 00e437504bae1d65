// What a device should send this time (PROTOCOL.md §3.2), flags included (§6).
import type { DbOrTrx } from '../../db/database.js';
import { deviceTimeZone, pendingFlags, recordResendOffer } from '../../db/repositories/flags.js';
import { readHighWaterMarks } from '../../db/repositories/high-water-marks.js';
import { readState } from '../../db/repositories/sync.js';
import { SYNC_STATUS } from '../../shared/protocol/codes.js';
import type { DeviceFlag } from '../../db/schema/index.js';
import { CHANNEL_UPLOADS, type ChannelName } from '../../shared/protocol/channels.js';
import { resendWindow, type ResendWindow } from './resend.js';

export interface Manifest {
  files: Array<{ name: string; required: boolean }>;
  high_water_marks: Record<string, number>;
  max_archive_bytes: number;
  server_time: string;
  resend?: ResendWindow;
}

/** The XML files the server wants from this upload, given the device's pending flags. */
export function wantedFiles(channel: ChannelName, flags: readonly Pick<DeviceFlag, 'name'>[]): Array<{ name: string; required: boolean }> {
  const files = [{ name: 'device.xml', required: true }];
  if (channel === 'synchro' && flags.some((f) => f.name === 'REPORT_SETTINGS')) files.push({ name: 'settings.xml', required: true });
  return files;
}

export async function buildManifest(db: DbOrTrx, deviceId: string, channel: ChannelName, maxArchiveBytes: number, now = new Date()): Promise<Manifest> {
  const upload = CHANNEL_UPLOADS[channel];
  const flags = await pendingFlags(db, deviceId);
  const marks = await readHighWaterMarks(db, deviceId, upload.csvLogs);
  if (flags.some((f) => f.name === 'FULL_RESYNC')) for (const file of Object.keys(marks)) marks[file] = 0;
  const manifest: Manifest = {
    files: wantedFiles(channel, flags),
    high_water_marks: marks,
    max_archive_bytes: maxArchiveBytes,
    server_time: now.toISOString(),
  };
  const resendFlag = channel === 'synchro' ? flags.find((f) => f.name === 'RESEND_SINCE') : undefined;
  const resend = resendFlag ? resendWindow([resendFlag], now, await deviceTimeZone(db, deviceId)) : null;
  if (resendFlag && resend) {
    manifest.resend = resend;
    // Remember what was offered: only a batch uploaded after this offer covers the window (worker/import/flags.ts).
    // While a batch is in hand (status 1 or 2) the manifest is informative only and the offer stands.
    const state = await readState(db, deviceId, channel);
    if ((state?.status ?? SYNC_STATUS.idle) === SYNC_STATUS.idle) {
      await recordResendOffer(db, resendFlag.id, resend);
    }
  }
  return manifest;
}

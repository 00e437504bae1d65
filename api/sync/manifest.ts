// What a device should send this time (PROTOCOL.md §3.2), flags included (§6); the channel adds
// its own members (channels/definition.ts `manifest`).
import { channelOf } from '../../channels/registry.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import { DEVICE_XML, type ManifestExtras, type WantedFile } from '../../channels/definition.js';
import type { DbOrTrx } from '../../db/database.js';
import { pendingFlags } from '../../db/repositories/flags.js';
import { readHighWaterMarks } from '../../db/repositories/high-water-marks.js';
import type { DeviceFlag } from '../../db/schema/index.js';

export interface Manifest extends ManifestExtras {
  files: WantedFile[];
  high_water_marks: Record<string, number>;
  max_archive_bytes: number;
  server_time: string;
}

/** The XML files the server wants from this upload, given the device's pending flags. */
export function wantedFiles(channel: ChannelName, flags: readonly Pick<DeviceFlag, 'name'>[]): WantedFile[] {
  return channelOf(channel).wantedFiles?.(flags) ?? [DEVICE_XML];
}

export async function buildManifest(db: DbOrTrx, deviceId: string, channel: ChannelName, maxArchiveBytes: number, now = new Date()): Promise<Manifest> {
  const definition = channelOf(channel);
  const flags = await pendingFlags(db, deviceId);
  const marks = await readHighWaterMarks(db, deviceId, definition.upload.csvLogs);
  if (flags.some((f) => f.name === 'FULL_RESYNC')) for (const file of Object.keys(marks)) marks[file] = 0;
  const extras = (await definition.manifest?.({ db, deviceId, flags, now })) ?? {};
  return {
    files: wantedFiles(channel, flags),
    high_water_marks: marks,
    max_archive_bytes: maxArchiveBytes,
    server_time: now.toISOString(),
    ...extras,
  };
}

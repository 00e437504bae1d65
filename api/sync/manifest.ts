// What a device should send this time (docs/protocol/v4.md §3.2), flags included (§6); the channel adds
// its own members (channels/description/definition.ts `manifest`).
import { channelOf } from '../../channels/registry.js';
import type { ChannelName } from '../../shared/protocol/channels.js';
import { DEVICE_XML, type ManifestExtras, type WantedFile } from '../../channels/description/definition.js';
import type { Db } from '../../db/database.js';
import { pendingFlags } from '../../db/repositories/flags.js';
import { readManifestStart } from '../../db/repositories/sync.js';
import { inactiveDevice } from '../http/authenticate.js';
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

/**
 * The manifest; its reads are one statement (device check, whether flags are pending, high-water
 * marks) unless the device has pending flags, which are then read in full. Throws the inactive
 * device's 401 for a disabled or unknown device.
 */
export async function buildManifest(db: Db, schoolId: number, deviceId: string, channel: ChannelName, maxArchiveBytes: number, now = new Date()): Promise<Manifest> {
  const definition = channelOf(channel);
  const start = await readManifestStart(db, schoolId, deviceId, definition.upload.csvLogs);
  if (!start || start.disabled) throw inactiveDevice();
  const flags = start.hasFlags ? await pendingFlags(db, schoolId, deviceId) : [];
  const marks: Record<string, number> = Object.fromEntries(definition.upload.csvLogs.map((f) => [f, start.marks[f] ?? 0]));
  if (flags.some((f) => f.name === 'FULL_RESYNC')) for (const file of Object.keys(marks)) marks[file] = 0;
  const extras = (await definition.manifest?.({ db, schoolId, deviceId, flags, now })) ?? {};
  return {
    files: wantedFiles(channel, flags),
    high_water_marks: marks,
    max_archive_bytes: maxArchiveBytes,
    server_time: now.toISOString(),
    ...extras,
  };
}

// The static part of a channel's upload (docs/protocol/v4.md §2, §4, §7): which archive entries it takes
// and which CSV logs carry high-water marks. Each channel declares its own in channels/<name>/description.ts;
// this file only holds the names, the shape and the name rules, so the archive check stays pure.

/** Every sync channel (docs/protocol/v4.md §7). channels/registry.ts describes each one under these names. */
export const CHANNEL_NAMES = ['synchro', 'sondes', 'messagerie', 'photos', 'appel'] as const;

export type ChannelName = (typeof CHANNEL_NAMES)[number];

export function isChannelName(value: string): value is ChannelName {
  return (CHANNEL_NAMES as readonly string[]).includes(value);
}

export interface ChannelUpload {
  name: string;
  /** XML files the device may send; `device.xml` is always required. */
  xmlFiles: readonly string[];
  /** CSV logs, each with a high-water mark on `record_id`. */
  csvLogs: readonly string[];
  /** Entries other than the fixed files, e.g. `photos/<name>`. */
  extraEntry?: RegExp;
}

/** A photo's name (§7): 1–100 characters from `A-Z a-z 0-9 . _ -`, never `.` or `..`. */
export const PHOTO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export function isPhotoName(name: string): boolean {
  return PHOTO_NAME.test(name) && name !== '.' && name !== '..';
}

export function isAllowedEntry(channel: ChannelUpload, name: string): boolean {
  if (channel.xmlFiles.includes(name) || channel.csvLogs.includes(name)) return true;
  return channel.extraEntry ? channel.extraEntry.test(name) && !name.endsWith('/..') && !name.endsWith('/.') : false;
}

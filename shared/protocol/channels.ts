// Static description of each sync channel's upload (PROTOCOL.md §2, §4, §7): which archive
// entries it takes, which are always required, and which CSV logs carry high-water marks.

export const CHANNEL_NAMES = ['synchro', 'sondes', 'messagerie', 'photos'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export interface ChannelUpload {
  name: ChannelName;
  /** XML files the device may send; `device.xml` is always required. */
  xmlFiles: readonly string[];
  /** CSV logs, each with a high-water mark on `record_id`. */
  csvLogs: readonly string[];
  /** Entries other than the fixed files, e.g. `photos/<name>`. */
  extraEntry?: RegExp;
}

export const PHOTO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export const CHANNEL_UPLOADS: Record<ChannelName, ChannelUpload> = {
  synchro: { name: 'synchro', xmlFiles: ['device.xml', 'settings.xml'], csvLogs: ['attendances.csv'] },
  sondes: { name: 'sondes', xmlFiles: ['device.xml'], csvLogs: ['readings.csv'] },
  messagerie: { name: 'messagerie', xmlFiles: ['device.xml'], csvLogs: ['messages.csv'] },
  photos: { name: 'photos', xmlFiles: ['device.xml'], csvLogs: [], extraEntry: /^photos\/[A-Za-z0-9._-]{1,100}$/ },
};

export function isChannelName(value: string): value is ChannelName {
  return (CHANNEL_NAMES as readonly string[]).includes(value);
}

export function isAllowedEntry(channel: ChannelUpload, name: string): boolean {
  if (channel.xmlFiles.includes(name) || channel.csvLogs.includes(name)) return true;
  return channel.extraEntry ? channel.extraEntry.test(name) && !name.endsWith('/..') && !name.endsWith('/.') : false;
}

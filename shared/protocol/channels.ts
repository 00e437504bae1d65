// The static part of a channel's upload (PROTOCOL.md §2, §4, §7): which archive entries it takes
// and which CSV logs carry high-water marks. Each channel declares its own in channels/<name>.ts;
// this file only holds the shape and the name rules, so the archive check stays pure.

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

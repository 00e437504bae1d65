// Structural check of an uploaded zip (docs/protocol/v4.md §3.3), done from the headers alone before a
// single byte is inflated, then lazy, checked inflation of one entry at a time.
//
// Follows SAFE-INPUT.md §1.1: the archive stays in memory, entry names are never used as paths,
// and declared sizes, ratios, counts, names, links and encryption are all checked by us, because
// adm-zip inflates an honest 200 MB entry without complaint. Checks run in a fixed order so that
// an archive with several faults always gets the same code:
//   archive_corrupt → archive_encrypted → archive_too_many_entries → archive_too_large_uncompressed
//   (an entry, a CSV log for its rows, the total) → archive_suspicious_ratio → entry_name_invalid
//   → required_file_missing.
// `entry_duplicate` comes first in practice: adm-zip 0.6.1 refuses to list such an archive at all
// (GHSA-p634-w6r4-rjp2), so duplicates are detected while opening it.

import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import AdmZip from 'adm-zip';
import { Problem } from '../errors.js';
import { isAllowedEntry, type ChannelUpload } from '../protocol/channels.js';
import { firstDuplicateName } from './central-directory.js';
import type { Config } from '../config.js';

export interface ArchiveLimits {
  maxEntries: number;
  /** Cap on the sum of the declared uncompressed sizes, in bytes. */
  maxTotalUncompressed: number;
  /** Cap on one entry's declared uncompressed size, in bytes. */
  maxEntryUncompressed: number;
  /** Cap on one entry's declared size / compressed size. */
  maxRatio: number;
  /**
   * Entries declaring fewer bytes than this skip the ratio check (default 4 KiB): a tiny file
   * compresses arbitrarily well and cannot hurt, and the size caps bound it anyway.
   */
  ratioMinBytes?: number;
  /**
   * Rows a CSV log of the channel may hold (BATCH_MAX_ROWS): a log declaring more than
   * `maxLogRows × LOG_ROW_BYTES` bytes uncompressed is refused up front. Absent: not checked
   * (the worker, which counts the rows themselves).
   */
  maxLogRows?: number;
}

/**
 * The bytes a CSV log row is allowed on average when the api judges a log's rows by its
 * declared size: more than the longest row a device writes with the protocol's columns
 * (attendances.csv: 16-digit record id, user id, type, a time with milliseconds and offset, a
 * temperature and a 100-character photo name come to ~180 bytes; a usual row is ~60).
 */
export const LOG_ROW_BYTES = 256;

/** The declared uncompressed size above which a CSV log is refused up front, for `maxRows` rows. */
export function logBytesLimit(maxRows: number): number {
  return maxRows * LOG_ROW_BYTES;
}

/** The archive limits from the configuration: the api checks an upload with them, the worker reads it again with the same. */
export function archiveLimits(config: Pick<Config, 'archiveMaxEntries' | 'archiveMaxUncompressedBytes' | 'archiveMaxRatio'>): ArchiveLimits {
  return {
    maxEntries: config.archiveMaxEntries,
    maxTotalUncompressed: config.archiveMaxUncompressedBytes,
    maxEntryUncompressed: config.archiveMaxUncompressedBytes,
    maxRatio: config.archiveMaxRatio,
  };
}

/**
 * The api's limits for an upload: `archiveLimits` and the rows of a CSV log judged by its
 * declared size (the worker, reading the archive again, counts the rows themselves instead).
 */
export function uploadLimits(config: Pick<Config, 'archiveMaxEntries' | 'archiveMaxUncompressedBytes' | 'archiveMaxRatio' | 'batchMaxRows'>): ArchiveLimits {
  return { ...archiveLimits(config), maxLogRows: config.batchMaxRows };
}

export interface InspectOptions {
  channel: ChannelUpload;
  /** Entries that must be present, e.g. `['device.xml']`. */
  required: readonly string[];
  limits: ArchiveLimits;
}

export interface ArchiveEntryInfo {
  name: string;
  /** Declared uncompressed size: `read` guarantees the data has exactly this length. */
  size: number;
  compressedSize: number;
}

export interface ArchiveContents {
  /** Entry names in archive order; each is allowed on the channel and appears once. */
  names: string[];
  entries: ArchiveEntryInfo[];
  /**
   * Inflates one entry (again on each call). Throws `archive_corrupt` when its data cannot be
   * inflated, fails its CRC or does not have its declared length.
   */
  read(name: string): Buffer;
  /**
   * The same bytes as `read`, inflated as they are consumed so that memory stays flat whatever
   * the entry's size. The stream fails with `archive_corrupt` as soon as the data runs past its
   * declared length, and at the end when it is short or its CRC differs.
   */
  stream(name: string): Readable;
  /**
   * Lets the archive's bytes go (a large batch's are megabytes, held otherwise until the import's
   * end): `names` and `entries` stay, `read` and `stream` throw from then on.
   */
  release(): void;
}

const LOCAL_HEADER_SIG = 0x04034b50;
const END_OF_CENTRAL_DIR_SIG = 0x06054b50;
const LOCAL_HEADER_SIZE = 30;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
/** WinZip AES: the data is encrypted whatever the flags say. */
const METHOD_AES = 99;
/** General purpose flags: bit 0 encrypted, bit 6 strong encryption, bit 13 encrypted directory. */
const FLAGS_ENCRYPTED = 0x0001 | 0x0040 | 0x2000;
const UNIX_TYPE_MASK = 0o170000;
const UNIX_SYMLINK = 0o120000;
const UNIX_DIRECTORY = 0o040000;
const DOS_DIRECTORY = 0x10;
const DEFAULT_RATIO_MIN_BYTES = 4096;
/** Compressed input is fed to zlib in slices this size: backpressure then bounds what is inflated ahead. */
const INFLATE_INPUT_SLICE = 16 * 1024;

/**
 * Whether the upload starts like a zip (a local file header, or the end record of an empty zip).
 * The route answers 415 when it does not; `inspectArchive` then answers `archive_corrupt`.
 */
export function looksLikeZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = Buffer.from(bytes.buffer, bytes.byteOffset, 4).readUInt32LE(0);
  return sig === LOCAL_HEADER_SIG || sig === END_OF_CENTRAL_DIR_SIG;
}

/** An entry name cut short enough for a problem body (names may be 64 KiB long). */
function clip(name: string): string {
  return name.length > 120 ? `${name.slice(0, 120)}…` : name;
}

/** An entry name as it may appear in a problem detail: quoted, control characters escaped, cut short. */
function show(name: string): string {
  return JSON.stringify(clip(name));
}

/**
 * A library error as a detail. Quoted parts are dropped: adm-zip 0.6.1's message templates keep
 * the first value ever substituted, so a quoted name there may come from another upload.
 */
function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^ADM-ZIP: /, '').replace(/\s*"[^"]*"/g, '').slice(0, 200);
}

function assertLimits(limits: ArchiveLimits): void {
  // A zero or NaN cap must never read as "no limit" (the CVE-2026-33349 / body-parser lesson).
  for (const [key, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && key !== 'ratioMinBytes')) {
      throw new TypeError(`archive limit ${key} must be a positive number, got ${String(value)}`);
    }
  }
}

function openEntries(bytes: Buffer): AdmZip.IZipEntry[] {
  try {
    // noSort keeps archive order; nothing is inflated here, only the central directory is read.
    return new AdmZip(bytes, { noSort: true }).getEntries();
  } catch (err) {
    const message = reason(err);
    if (message.startsWith('Duplicate entry name')) {
      const name = firstDuplicateName(bytes);
      if (name === null) throw new Problem('entry_duplicate', 'An entry name appears more than once');
      throw new Problem('entry_duplicate', `The entry ${show(name)} appears more than once`, { entry: clip(name) });
    }
    throw new Problem('archive_corrupt', `Not a readable zip: ${message}`);
  }
}

/**
 * Local headers must agree with the central directory and every entry's data must lie inside
 * the upload without overlapping another's: overlapping entries are how non-recursive zip bombs
 * reuse one compressed block many times, and a differing local name is how one archive shows
 * different files to different tools (Python's zipfile refuses it too).
 */
function checkLayout(bytes: Buffer, entries: AdmZip.IZipEntry[]): void {
  const extents: { start: number; end: number; name: string }[] = [];
  for (const entry of entries) {
    const header = entry.header;
    const name = entry.entryName;
    try {
      header.loadLocalHeaderFromBinary(bytes);
    } catch (err) {
      throw new Problem('archive_corrupt', `Entry ${show(name)} has no valid local header: ${reason(err)}`);
    }
    const local = header.localHeader as { fnameLen: number; flags: number; method: number };
    const localNameStart = header.offset + LOCAL_HEADER_SIZE;
    const localName = bytes.subarray(localNameStart, localNameStart + local.fnameLen);
    if (!localName.equals(entry.rawEntryName)) {
      throw new Problem('archive_corrupt', `Entry ${show(name)} has a different name in its local header`);
    }
    const end = header.realDataOffset + header.compressedSize;
    if (end > bytes.length) {
      throw new Problem('archive_corrupt', `Entry ${show(name)} extends past the end of the archive`);
    }
    extents.push({ start: header.offset, end, name });
  }
  extents.sort((a, b) => a.start - b.start);
  for (let i = 1; i < extents.length; i++) {
    if (extents[i].start < extents[i - 1].end) {
      throw new Problem('archive_corrupt', `Entries ${show(extents[i - 1].name)} and ${show(extents[i].name)} overlap`);
    }
  }
}

function isEncrypted(entry: AdmZip.IZipEntry): boolean {
  const header = entry.header;
  const local = header.localHeader as { flags: number; method: number };
  return (
    (header.flags & FLAGS_ENCRYPTED) !== 0 ||
    (local.flags & FLAGS_ENCRYPTED) !== 0 ||
    header.method === METHOD_AES ||
    local.method === METHOD_AES
  );
}

function checkMethod(entry: AdmZip.IZipEntry): void {
  const header = entry.header;
  const local = header.localHeader as { method: number };
  const name = show(entry.entryName);
  if ((header.method !== METHOD_STORED && header.method !== METHOD_DEFLATED) || local.method !== header.method) {
    throw new Problem('archive_corrupt', `Entry ${name} uses an unsupported compression method (${header.method})`);
  }
  if (header.method === METHOD_STORED && header.size !== header.compressedSize) {
    throw new Problem('archive_corrupt', `Stored entry ${name} declares ${header.size} bytes but holds ${header.compressedSize}`);
  }
}

/** Why `entry` may not be accepted on `channel`, or null when its name and type are fine. */
function nameProblem(entry: AdmZip.IZipEntry, channel: ChannelUpload): string | null {
  const name = entry.entryName;
  const unixType = (entry.header.attr >>> 16) & UNIX_TYPE_MASK;
  if (entry.isDirectory || unixType === UNIX_DIRECTORY || (entry.header.attr & DOS_DIRECTORY) !== 0) {
    return 'is a directory';
  }
  if (unixType === UNIX_SYMLINK) return 'is a symbolic link';
  if (name.length === 0) return 'has an empty name';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    return 'has an empty, "." or ".." path segment';
  }
  if (/[\u0000-\u001f\u007f\ufffd]/.test(name)) return 'contains control characters or is not UTF-8';
  if (!isAllowedEntry(channel, name)) return `is not allowed on the ${channel.name} channel`;
  return null;
}

/**
 * Validates an uploaded archive's structure without inflating anything, throwing the
 * docs/protocol/v4.md §3 `Problem` for the first fault found (see the order at the top of this file).
 */
export function inspectArchive(bytes: Buffer, opts: InspectOptions): ArchiveContents {
  const { channel, required, limits } = opts;
  assertLimits(limits);

  if (!looksLikeZip(bytes)) throw new Problem('archive_corrupt', 'The upload does not start like a zip');
  const entries = openEntries(bytes);
  checkLayout(bytes, entries);

  for (const entry of entries) {
    if (isEncrypted(entry)) {
      throw new Problem('archive_encrypted', `Entry ${show(entry.entryName)} is encrypted`, { entry: clip(entry.entryName) });
    }
  }
  for (const entry of entries) checkMethod(entry);

  if (entries.length > limits.maxEntries) {
    throw new Problem('archive_too_many_entries', `The archive holds ${entries.length} entries; at most ${limits.maxEntries} are allowed`);
  }

  let total = 0;
  for (const entry of entries) {
    const size = entry.header.size;
    if (size > limits.maxEntryUncompressed) {
      throw new Problem(
        'archive_too_large_uncompressed',
        `Entry ${show(entry.entryName)} declares ${size} bytes uncompressed; at most ${limits.maxEntryUncompressed} are allowed`,
        { entry: clip(entry.entryName) },
      );
    }
    // A CSV log's rows judged by its size: more than a batch may carry (BATCH_MAX_ROWS) is refused
    // before anything is stored, rather than found by the worker after the whole file is read.
    if (limits.maxLogRows !== undefined && channel.csvLogs.includes(entry.entryName) && size > logBytesLimit(limits.maxLogRows)) {
      throw new Problem(
        'archive_too_large_uncompressed',
        `Entry ${show(entry.entryName)} declares ${size} bytes uncompressed: more than the ${limits.maxLogRows} rows one batch may carry `
          + `(at most ${logBytesLimit(limits.maxLogRows)} bytes); send its rows in smaller batches`,
        { entry: clip(entry.entryName), max_rows: limits.maxLogRows },
      );
    }
    total += size;
  }
  if (total > limits.maxTotalUncompressed) {
    throw new Problem(
      'archive_too_large_uncompressed',
      `The entries declare ${total} bytes uncompressed in all; at most ${limits.maxTotalUncompressed} are allowed`,
    );
  }

  const ratioMinBytes = limits.ratioMinBytes ?? DEFAULT_RATIO_MIN_BYTES;
  for (const entry of entries) {
    const { size, compressedSize } = entry.header;
    if (size < ratioMinBytes) continue;
    const ratio = compressedSize === 0 ? Infinity : size / compressedSize;
    if (ratio > limits.maxRatio) {
      throw new Problem(
        'archive_suspicious_ratio',
        `Entry ${show(entry.entryName)} declares ${size} bytes from ${compressedSize} compressed (ratio over ${limits.maxRatio})`,
        { entry: clip(entry.entryName) },
      );
    }
  }

  for (const entry of entries) {
    const problem = nameProblem(entry, channel);
    if (problem) {
      throw new Problem('entry_name_invalid', `Entry ${show(entry.entryName)} ${problem}`, { entry: clip(entry.entryName) });
    }
  }

  // adm-zip already refused exact duplicates; this guards the invariant `read` relies on.
  const byName = new Map<string, AdmZip.IZipEntry>();
  for (const entry of entries) {
    if (byName.has(entry.entryName)) {
      throw new Problem('entry_duplicate', `The entry ${show(entry.entryName)} appears more than once`, { entry: clip(entry.entryName) });
    }
    byName.set(entry.entryName, entry);
  }

  const missing = required.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw new Problem('required_file_missing', `Missing required file(s): ${missing.join(', ')}`, { files: missing });
  }

  // Until `release`: the bytes, and adm-zip's entries, which hold them too.
  let held: { bytes: Buffer; byName: Map<string, AdmZip.IZipEntry> } | null = { bytes, byName };
  const entryNamed = (name: string): { bytes: Buffer; entry: AdmZip.IZipEntry } => {
    if (!held) throw new Error(`The archive was released: ${show(name)} can no longer be read`);
    // A Map lookup, never adm-zip's getEntry, which normalises the name as a path.
    const entry = held.byName.get(name);
    if (!entry) throw new Error(`No entry named ${show(name)} in this archive`);
    return { bytes: held.bytes, entry };
  };

  return {
    names: [...byName.keys()],
    entries: entries.map((e) => ({ name: e.entryName, size: e.header.size, compressedSize: e.header.compressedSize })),
    read(name: string): Buffer {
      const { entry } = entryNamed(name);
      let data: Buffer;
      try {
        // adm-zip caps inflation at the declared size and checks the CRC (0.6.1).
        data = entry.getData();
      } catch (err) {
        throw new Problem('archive_corrupt', `Entry ${show(name)} cannot be inflated: ${reason(err)}`, { entry: clip(name) });
      }
      if (data.length !== entry.header.size) {
        throw new Problem(
          'archive_corrupt',
          `Entry ${show(name)} inflates to ${data.length} bytes but declares ${entry.header.size}`,
          { entry: clip(name) },
        );
      }
      return data;
    },
    stream(name: string): Readable {
      const { bytes: data, entry: { header } } = entryNamed(name);
      const compressed = data.subarray(header.realDataOffset, header.realDataOffset + header.compressedSize);
      return Readable.from(checkedInflate(compressed, header.method, header.size, header.crc >>> 0, name), { objectMode: false });
    },
    release(): void {
      // byName is in the closures' shared context (the required-files check reads it): emptied,
      // it holds no entry, and so no bytes, whatever V8 keeps of that context.
      held?.byName.clear();
      held = null;
    },
  };
}

function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/**
 * Entries declaring at most this much are inflated in one synchronous call: a zlib stream costs
 * more to set up than a sync of 10 rows costs to inflate (the fleet bench's worker spent a tenth
 * of its CPU there). Output is capped one byte above the declared size, so memory stays bounded
 * and a lying size is still caught by the checks below.
 */
const SMALL_ENTRY_BYTES = 64 * 1024;

function* inflatedAtOnce(compressed: Buffer, size: number): Generator<Buffer> {
  yield zlib.inflateRawSync(compressed, { maxOutputLength: size + 1 });
}

/** Inflates (or passes through, when stored) one entry's data, checking length and CRC as it goes. */
async function* checkedInflate(compressed: Buffer, method: number, size: number, crc: number, name: string): AsyncGenerator<Buffer> {
  const corrupt = (why: string) => new Problem('archive_corrupt', `Entry ${show(name)} ${why}`, { entry: clip(name) });
  const source: AsyncIterable<Buffer> | Iterable<Buffer> = method === METHOD_STORED
    ? slices(compressed, INFLATE_INPUT_SLICE)
    : size <= SMALL_ENTRY_BYTES ? inflatedAtOnce(compressed, size)
    : Readable.from(slices(compressed, INFLATE_INPUT_SLICE)).pipe(zlib.createInflateRaw());
  let length = 0;
  let running = 0;
  try {
    for await (const chunk of source) {
      length += chunk.length;
      if (length > size) throw corrupt(`inflates to more than the ${size} bytes it declares`);
      running = zlib.crc32(chunk, running);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof Problem) throw err;
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_BUFFER_TOO_LARGE') throw corrupt(`inflates to more than the ${size} bytes it declares`);
    throw corrupt(`cannot be inflated: ${reason(err)}`);
  } finally {
    if (source instanceof Readable) source.destroy();
  }
  if (length !== size) throw corrupt(`inflates to ${length} bytes but declares ${size}`);
  if (running >>> 0 !== crc) throw corrupt('fails its CRC check');
}

// Builds the zips we produce (instruction packages, fixtures): flat names, deflated, in the
// given order, and byte-for-byte reproducible so that the same package always has the same ETag.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import AdmZip from 'adm-zip';

export interface ZipFileInput {
  name: string;
  data: Buffer | string;
}

export interface BuildZipOptions {
  /** Modification time written for every entry (UTC fields); default 1980-01-01, the DOS epoch. */
  mtime?: Date;
}

const SAFE_NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** MS-DOS date/time from UTC fields, so the bytes do not depend on the machine's time zone. */
function dosTime(date: Date): number {
  const year = Math.min(Math.max(date.getUTCFullYear(), 1980), 2107);
  const day = ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  const time = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1);
  return ((day << 16) | time) >>> 0;
}

/** A deflated zip holding `files` in order. Names must be plain relative paths, each used once. */
export function buildZip(files: readonly ZipFileInput[], opts: BuildZipOptions = {}): Buffer {
  const zip = new AdmZip({ noSort: true });
  const seen = new Set<string>();
  const timeval = dosTime(opts.mtime ?? new Date(Date.UTC(1980, 0, 1)));
  for (const file of files) {
    // adm-zip would silently normalise `a/../b` or merge a repeated name: refuse both instead.
    if (!SAFE_NAME.test(file.name) || file.name.split('/').some((p) => p === '.' || p === '..')) {
      throw new Error(`buildZip: unsafe entry name ${JSON.stringify(file.name)}`);
    }
    if (seen.has(file.name)) throw new Error(`buildZip: entry ${JSON.stringify(file.name)} given twice`);
    seen.add(file.name);
    const data = typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data;
    const entry = zip.addFile(file.name, data, '', 0o644);
    entry.header.timeval = timeval;
  }
  return zip.toBuffer();
}

export interface StreamedZipFileInput {
  name: string;
  /** The entry's data, deflated as it comes: an entry of any length costs only its compressed bytes. */
  data: Buffer | string | AsyncIterable<Buffer | string>;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIR = 0x06054b50;
/** Version 2.0 (deflate), made on Unix (for the mode in the external attributes). */
const VERSION_NEEDED = 20;
const VERSION_MADE_BY = (3 << 8) | VERSION_NEEDED;
const METHOD_DEFLATED = 8;
const FILE_MODE = 0o100644;
/** Without ZIP64, sizes and offsets are 32-bit. */
const ZIP32_MAX = 0xffff_ffff;

async function* asBuffers(data: StreamedZipFileInput['data']): AsyncGenerator<Buffer> {
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    yield typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return;
  }
  for await (const chunk of data) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

/**
 * The same kind of zip as `buildZip` (flat names, deflated, in order, reproducible), written
 * from data that may come as a stream: each entry is deflated as its chunks arrive, so only the
 * compressed bytes are ever held. The instruction package of a batch with more rejections than
 * the worker holds is written this way (worker/import/assemble-package.ts).
 */
export async function buildZipStreamed(files: readonly StreamedZipFileInput[], opts: BuildZipOptions = {}): Promise<Buffer> {
  const timeval = dosTime(opts.mtime ?? new Date(Date.UTC(1980, 0, 1)));
  const seen = new Set<string>();
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    if (!SAFE_NAME.test(file.name) || file.name.split('/').some((p) => p === '.' || p === '..')) {
      throw new Error(`buildZipStreamed: unsafe entry name ${JSON.stringify(file.name)}`);
    }
    if (seen.has(file.name)) throw new Error(`buildZipStreamed: entry ${JSON.stringify(file.name)} given twice`);
    seen.add(file.name);
    const name = Buffer.from(file.name, 'utf8');
    let crc = 0;
    let size = 0;
    const compressed: Buffer[] = [];
    await pipeline(
      Readable.from((async function* () {
        for await (const chunk of asBuffers(file.data)) {
          crc = zlib.crc32(chunk, crc);
          size += chunk.length;
          yield chunk;
        }
      })()),
      zlib.createDeflateRaw(),
      async (deflated: AsyncIterable<Buffer>) => {
        for await (const chunk of deflated) compressed.push(chunk);
      },
    );
    const compressedSize = compressed.reduce((n, c) => n + c.length, 0);
    if (size > ZIP32_MAX || compressedSize > ZIP32_MAX || offset > ZIP32_MAX) throw new Error(`buildZipStreamed: ${file.name} is too large for a zip without ZIP64`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(METHOD_DEFLATED, 8);
    local.writeUInt32LE(timeval, 10); // time, then date
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressedSize, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra field
    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE(VERSION_MADE_BY, 4);
    header.writeUInt16LE(VERSION_NEEDED, 6);
    header.writeUInt16LE(0, 8); // flags
    header.writeUInt16LE(METHOD_DEFLATED, 10);
    header.writeUInt32LE(timeval, 12);
    header.writeUInt32LE(crc >>> 0, 16);
    header.writeUInt32LE(compressedSize, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(name.length, 28);
    // extra field, comment, disk number, internal attributes: 0
    header.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    parts.push(local, name, ...compressed);
    central.push(header, name);
    offset += local.length + name.length + compressedSize;
  }
  const centralSize = central.reduce((n, c) => n + c.length, 0);
  if (offset > ZIP32_MAX || files.length > 0xffff) throw new Error('buildZipStreamed: too large for a zip without ZIP64');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIR, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, ...central, end]);
}

// Builds the zips we produce (instruction packages, fixtures): flat names, deflated, in the
// given order, and byte-for-byte reproducible so that the same package always has the same ETag.

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

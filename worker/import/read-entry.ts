// Reading one entry of an accepted archive: data that turns out corrupt when inflated (bad CRC,
// lying sizes — the api checks headers only) is an error of that file, not of the whole batch.
import type { ArchiveContents } from '../../shared/archive/inspect-archive.js';
import { Problem } from '../../shared/errors.js';
import { FileError } from '../../shared/protocol/file-error.js';

export function readEntry(archive: ArchiveContents, name: string): Buffer {
  try {
    return archive.read(name);
  } catch (err) {
    if (err instanceof Problem && err.code === 'archive_corrupt') throw new FileError('file_corrupt', err.detail ?? 'the entry cannot be inflated');
    throw err;
  }
}

// Reading one entry of an accepted archive: data that turns out corrupt when inflated (bad CRC,
// lying sizes — the api checks headers only) is an error of that file, not of the whole batch.
import { Readable } from 'node:stream';
import type { ArchiveContents } from '../../shared/archive/inspect-archive.js';
import { Problem } from '../../shared/errors.js';
import { FileError } from '../../shared/protocol/file-error.js';

function asFileError(err: unknown): unknown {
  return err instanceof Problem && err.code === 'archive_corrupt' ? new FileError('file_corrupt', err.detail ?? 'the entry cannot be inflated') : err;
}

/** A small entry (XML) as one buffer. */
export function readEntry(archive: ArchiveContents, name: string): Buffer {
  try {
    return archive.read(name);
  } catch (err) {
    throw asFileError(err);
  }
}

/** A log entry as a stream: memory stays flat however many rows it holds. */
export function streamEntry(archive: ArchiveContents, name: string): Readable {
  const source = archive.stream(name);
  return Readable.from((async function* () {
    try {
      yield* source;
    } catch (err) {
      throw asFileError(err);
    }
  })(), { objectMode: false });
}

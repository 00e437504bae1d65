// A whole upload file that cannot be read (docs/protocol/v4.md §4: bad XML, a CSV without its required
// columns). It is reported as `<error file=… code=…>` in the instruction package; the other files
// of the batch are still imported, so this is deliberately not an HTTP `Problem`.

import type { FileErrorCode } from './codes.js';

export class FileError extends Error {
  constructor(
    readonly code: FileErrorCode,
    readonly detail: string,
  ) {
    // The message is the bare detail, so either can go into `<error detail=…>` as it is.
    super(detail);
    this.name = 'FileError';
  }
}

export function isFileError(value: unknown): value is FileError {
  return value instanceof FileError;
}

// Receives the multipart upload in memory under strict limits (SAFE-INPUT.md §1.3) and maps
// every way it can go wrong to a PROTOCOL.md §3 code.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { Problem } from '../../shared/errors.js';

export function uploadArchive(maxArchiveBytes: number): RequestHandler {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: {
      fileSize: maxArchiveBytes, files: 1, fields: 4, parts: 6, fieldNameSize: 64, fieldSize: 1024, headerPairs: 50,
      fieldNestingDepth: 0, fieldArrayIndexLimit: 0,
    } as multer.Options['limits'],
  }).single('archive');

  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('multipart/form-data')) {
      next(new Problem('unsupported_media_type', 'Send multipart/form-data with one file field named "archive"'));
      return;
    }
    // A body larger than allowed is refused from its declared length before reading it.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxArchiveBytes + 64 * 1024) {
      next(new Problem('archive_too_large', `The archive is larger than ${maxArchiveBytes} bytes`, { max_archive_bytes: maxArchiveBytes }, { Connection: 'close' }));
      return;
    }
    upload(req, res, (err: unknown) => {
      if (!err) {
        if (!req.file) return next(new Problem('archive_missing', 'No file field named "archive" in the upload'));
        return next();
      }
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') {
          return next(new Problem('archive_too_large', `The archive is larger than ${maxArchiveBytes} bytes`, { max_archive_bytes: maxArchiveBytes }));
        }
        if (err.code === 'LIMIT_UNEXPECTED_FILE') return next(new Problem('archive_missing', `Unexpected file field "${err.field ?? ''}": send it as "archive"`));
        return next(new Problem('bad_request', `Malformed upload: ${err.code}`));
      }
      next(new Problem('bad_request', 'Malformed multipart body'));
    });
  };
}

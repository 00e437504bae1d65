// Receives the multipart upload in memory under strict limits (SAFE-INPUT.md §1.3) and maps
// every way it can go wrong to a docs/protocol/v4.md §3 code. The caller was authenticated before
// this runs (api/http/route.ts), and the bytes one process receives at once are bounded by
// UPLOAD_MAX_IN_FLIGHT_BYTES: without it, 16 parallel 49 MB uploads took an api from 95 MB
// to 523 MB of memory.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { Problem } from '../../shared/errors.js';
import type { InFlightBudget } from '../http/in-flight-budget.js';

export interface UploadLimits {
  maxArchiveBytes: number;
  budget: InFlightBudget;
  retryAfterSeconds: number;
}

/** What multipart framing may add around the archive (boundaries, part headers). */
const MULTIPART_OVERHEAD = 64 * 1024;

export function uploadArchive({ maxArchiveBytes, budget, retryAfterSeconds }: UploadLimits): RequestHandler {
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
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > maxArchiveBytes + MULTIPART_OVERHEAD) {
      next(new Problem('archive_too_large', `The archive is larger than ${maxArchiveBytes} bytes`, { max_archive_bytes: maxArchiveBytes }, { Connection: 'close' }));
      return;
    }
    // A chunked body (no Content-Length) may grow to the largest archive: that much is reserved.
    const reserved = Number.isSafeInteger(declared) && declared >= 0 ? declared : maxArchiveBytes + MULTIPART_OVERHEAD;
    if (!budget.reserve(reserved, res)) {
      next(new Problem('server_busy', 'Too many uploads are being received; nothing was stored', { retry_after: retryAfterSeconds },
        { 'Retry-After': String(retryAfterSeconds) }));
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

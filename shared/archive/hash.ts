// SHA-256 of upload and package bytes: the upload's retry identity (docs/protocol/v4.md §3) and the
// instruction package's ETag (§3.4), and the stored photo index (§7).

import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256(bytes: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// `photos` (docs/protocol/v4.md §7): check-in photos as `photos/<name>` entries. Each is checked by its
// content (shared/image/image-info.ts) and its size, stored once per SHA-256 whatever its name or
// device, and linked to the device's name for it, which is what attendances' `photo` refers to.
// The manifest asks for the names the device's attendances refer to that are not held yet; the
// package carries the device's whole photo index plus the photos of this batch that were refused.
import { devicePhotoIndex, linkDevicePhoto, storePhoto } from '../../db/repositories/photos.js';
import { sha256 } from '../../shared/archive/hash.js';
import { checkImage, MAX_PHOTO_BYTES } from '../../shared/image/image-info.js';
import { isFileError } from '../../shared/protocol/file-error.js';
import type { PhotoReport } from '../../shared/protocol/instruction-package.js';
import type { ImportContext } from '../kit/context.js';
import type { ChannelImporter } from '../kit/importer.js';
import { readEntry } from '../kit/read-entry.js';
import { PREFIX } from './description.js';

async function importPhotos(ctx: ImportContext): Promise<PhotoReport[]> {
  const refused: PhotoReport[] = [];
  for (const entry of ctx.archive.entries) {
    if (!entry.name.startsWith(PREFIX)) continue;
    const name = entry.name.slice(PREFIX.length);
    // The declared size is exact (inspectArchive checks it while inflating): no need to inflate a photo too large.
    if (entry.size > MAX_PHOTO_BYTES) {
      refused.push({ name, code: 'too_large' });
      continue;
    }
    let data: Buffer;
    try {
      data = readEntry(ctx.archive, entry.name);
    } catch (err) {
      if (!isFileError(err)) throw err;
      ctx.out.errors.push({ file: entry.name, code: err.code, detail: err.message });
      continue;
    }
    const checked = checkImage(data);
    if (!checked.ok) {
      refused.push({ name, code: checked.code });
      continue;
    }
    const hash = sha256(data);
    await storePhoto(ctx.trx, { sha256: hash, contentType: checked.info.contentType, width: checked.info.width, height: checked.info.height, data });
    await linkDevicePhoto(ctx.trx, { schoolId: ctx.device.schoolId, deviceId: ctx.device.id, name, sha256: hash, sessionId: ctx.session.id });
  }
  return refused;
}

export const photosImporter: ChannelImporter = {
  name: 'photos',

  async import(ctx) {
    const refused = await importPhotos(ctx);
    const held = await devicePhotoIndex(ctx.trx, ctx.device.schoolId, ctx.device.id);
    ctx.out.photos.push(...held.map((p) => ({ name: p.name, sha256: p.sha256, stored: true as const })), ...refused);
  },
};

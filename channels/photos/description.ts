// `photos` (docs/protocol/v4.md §7): check-in photos as `photos/<name>` entries. The manifest asks for
// the names the device's attendances refer to that are not held yet.
import { photosWanted } from '../../db/repositories/photos.js';
import type { ChannelDescription } from '../description/definition.js';

export const PREFIX = 'photos/';
/** Names listed in one manifest; the rest are asked for once these arrived. */
const MAX_WANTED = 500;

export const photosChannel: ChannelDescription = {
  name: 'photos',
  upload: { name: 'photos', xmlFiles: ['device.xml'], csvLogs: [], extraEntry: /^photos\/[A-Za-z0-9._-]{1,100}$/ },

  async manifest({ db, schoolId, deviceId }) {
    return { photos_wanted: await photosWanted(db, schoolId, deviceId, MAX_WANTED) };
  },
};

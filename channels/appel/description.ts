// `appel` (docs/protocol/v4.md §7.4): a teacher's roll call from the mobile app, as marks.csv.
import type { ChannelDescription } from '../description/definition.js';

export const MARKS_FILE = 'marks.csv';

export const appelChannel: ChannelDescription = {
  name: 'appel',
  upload: { name: 'appel', xmlFiles: ['device.xml'], csvLogs: [MARKS_FILE] },
};

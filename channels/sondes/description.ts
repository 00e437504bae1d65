// `sondes` (docs/protocol/v4.md §7): temperature screenings every 30–60 s, as readings.csv.
import type { ChannelDescription } from '../description/definition.js';

export const READINGS_FILE = 'readings.csv';

export const sondesChannel: ChannelDescription = {
  name: 'sondes',
  upload: { name: 'sondes', xmlFiles: ['device.xml'], csvLogs: [READINGS_FILE] },
};

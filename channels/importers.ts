// The only place that lists every channel's importer; the worker's import job looks them up here.
import type { ChannelName } from '../shared/protocol/channels.js';
import type { ChannelImporter } from './kit/importer.js';
import { appelImporter } from './appel/importer.js';
import { messagerieImporter } from './messagerie/importer.js';
import { photosImporter } from './photos/importer.js';
import { sondesImporter } from './sondes/importer.js';
import { synchroImporter } from './synchro/importer.js';

const IMPORTERS: Record<ChannelName, ChannelImporter> = {
  synchro: synchroImporter,
  sondes: sondesImporter,
  messagerie: messagerieImporter,
  photos: photosImporter,
  appel: appelImporter,
};

export function importerOf(name: ChannelName): ChannelImporter {
  return IMPORTERS[name];
}

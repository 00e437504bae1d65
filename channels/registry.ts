// The only place that describes every channel for the api: routes, manifest, archive check and
// acknowledgement look the channel up here. Pure descriptions: no import code is loaded from
// here (the worker's side is channels/importers.ts).
import { CHANNEL_NAMES, type ChannelName, type ChannelUpload } from '../shared/protocol/channels.js';
import type { ChannelDescription } from './description/definition.js';
import { appelChannel } from './appel/description.js';
import { messagerieChannel } from './messagerie/description.js';
import { photosChannel } from './photos/description.js';
import { sondesChannel } from './sondes/description.js';
import { synchroChannel } from './synchro/description.js';

export const CHANNELS: Record<ChannelName, ChannelDescription> = {
  synchro: synchroChannel,
  sondes: sondesChannel,
  messagerie: messagerieChannel,
  photos: photosChannel,
  appel: appelChannel,
};

export function channelOf(name: ChannelName): ChannelDescription {
  return CHANNELS[name];
}

/** Each channel's static upload description, by name (archive checks, fixtures). */
export const CHANNEL_UPLOADS = Object.fromEntries(CHANNEL_NAMES.map((n) => [n, CHANNELS[n].upload])) as Record<ChannelName, ChannelUpload>;

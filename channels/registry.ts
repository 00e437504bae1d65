// The only place that names every channel. Everything else — routes, manifest, archive check,
// import job, acknowledgement — looks the channel up here.
import type { ChannelDefinition } from './definition.js';
import { messagerieChannel } from './messagerie.js';
import { photosChannel } from './photos.js';
import { sondesChannel } from './sondes.js';
import { synchroChannel } from './synchro.js';

export const CHANNELS = {
  synchro: synchroChannel,
  sondes: sondesChannel,
  messagerie: messagerieChannel,
  photos: photosChannel,
} satisfies Record<string, ChannelDefinition>;

export type ChannelName = keyof typeof CHANNELS;

export const CHANNEL_NAMES = Object.keys(CHANNELS) as [ChannelName, ...ChannelName[]];

export function isChannelName(value: string): value is ChannelName {
  return Object.hasOwn(CHANNELS, value);
}

export function channelOf(name: ChannelName): ChannelDefinition {
  return CHANNELS[name];
}

/** Each channel's static upload description, by name (archive checks, fixtures). */
export const CHANNEL_UPLOADS = Object.fromEntries(CHANNEL_NAMES.map((n) => [n, CHANNELS[n].upload])) as Record<ChannelName, ChannelDefinition['upload']>;

// Table cells describing a device's sync health, shared by the devices, attention and sessions
// views: "last sync" is written from one field everywhere (lastSyncOf), so no two tabs disagree.
import { badge, h } from './dom.js';
import { ago, channelStatus, dateTime, reason, skew, skewTitle } from './format.js';
import { m } from './i18n.js';
import type { Device } from './types.js';

/** The last acknowledged sync; a device that uploads but never acknowledged: its last upload. */
export function lastSyncOf(d: Device): string | null {
  return d.last_successful_sync_at ?? d.last_synced_at;
}

export function channelsCell(d: Device): HTMLElement {
  const names = Object.keys(d.channels).sort();
  // A PUSH terminal has no v4 channels: its sync is its calls (last sync beside it, the Terminals tab).
  if (d.protocol === 'push') return h('span', { class: 'muted' }, m.pushTerminalChannels);
  if (names.length === 0) return h('span', { class: 'muted' }, m.neverSynced);
  return h('ul', { class: 'plain' }, names.map((name) => {
    const c = d.channels[name];
    const overdue = c.ack_overdue || c.processing_overdue;
    return h('li', {}, `${name}: `, badge(`${channelStatus(c.status)}${overdue ? ` — ${m.overdue}` : ''}`, overdue ? 'bad' : c.status === 0 ? 'ok' : 'info'),
      c.last_acknowledged_at ? h('span', { class: 'muted' }, ` ${m.acked(ago(c.last_acknowledged_at))}`) : null);
  }));
}

export function lastSyncCell(d: Device, timeZone: string): HTMLElement {
  const last = lastSyncOf(d);
  return h('span', { title: dateTime(last, timeZone) }, ago(last),
    h('br'), h('span', { class: 'muted' }, m.seenEvery(ago(d.last_seen_at), Math.round(d.sync_interval_seconds / 60))));
}

export function attentionCell(d: Device): HTMLElement {
  if (d.disabled_at) return badge(m.disabled, 'info');
  if (d.attention_reasons.length === 0) return badge(m.ok, 'ok');
  return h('ul', { class: 'plain' }, d.attention_reasons.map((r) => h('li', {}, badge(reason(r), 'bad'))));
}

export function skewCell(d: Device): HTMLElement {
  return h('span', { title: skewTitle(d.clock_skew_seconds) }, skew(d.clock_skew_seconds));
}

export function behindCell(d: Device, timeZone: string): string {
  return d.behind_since ? dateTime(d.behind_since, timeZone) : '—';
}



// Table cells describing a device's sync health, shared by the devices and attention views.
import { badge, h } from './dom.js';
import { ago, CHANNEL_STATUS, dateTime, REASONS, skew } from './format.js';
import type { Device } from './types.js';

export function channelsCell(d: Device): HTMLElement {
  const names = Object.keys(d.channels).sort();
  if (names.length === 0) return h('span', { class: 'muted' }, 'never synced');
  return h('ul', { class: 'plain' }, names.map((name) => {
    const c = d.channels[name];
    const overdue = c.ack_overdue || c.processing_overdue;
    return h('li', {}, `${name}: `, badge(`${CHANNEL_STATUS[c.status]}${overdue ? ' — overdue' : ''}`, overdue ? 'bad' : c.status === 0 ? 'ok' : 'info'),
      c.last_acknowledged_at ? h('span', { class: 'muted' }, ` acked ${ago(c.last_acknowledged_at)}`) : null);
  }));
}

export function lastSyncCell(d: Device, timeZone: string): HTMLElement {
  // The last acknowledged sync; a device that uploads but never acknowledged shows its last upload.
  const last = d.last_successful_sync_at ?? d.last_synced_at;
  return h('span', { title: dateTime(last, timeZone) }, ago(last),
    h('br'), h('span', { class: 'muted' }, `seen ${ago(d.last_seen_at)} · every ${Math.round(d.sync_interval_seconds / 60)} min`));
}

export function attentionCell(d: Device): HTMLElement {
  if (d.disabled_at) return badge('disabled', 'info');
  if (d.attention_reasons.length === 0) return badge('OK', 'ok');
  return h('ul', { class: 'plain' }, d.attention_reasons.map((r) => h('li', {}, badge(REASONS[r], 'bad'))));
}

export function skewCell(d: Device): string {
  return skew(d.clock_skew_seconds);
}

export function behindCell(d: Device, timeZone: string): string {
  return d.behind_since ? dateTime(d.behind_since, timeZone) : '—';
}

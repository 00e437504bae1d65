// Whether figures are final or still waiting for a device, in words: shared by the overview
// and the figures view.
import { h } from './dom.js';
import { dateTime } from './format.js';
import { m } from './i18n.js';
import type { Figures } from './types.js';

export function finalityNote(f: Figures): HTMLElement {
  const waiting = f.buckets.filter((b) => !b.final).length;
  if (f.pending_devices.length === 0) {
    return h('p', { class: 'finality ok' }, waiting === 0 ? m.allFinal : m.everyDeviceSent(waiting));
  }
  return h('div', { class: 'finality warn' },
    h('p', {}, m.mayChange(waiting, f.buckets.length, f.pending_devices.length)),
    h('ul', {}, f.pending_devices.map((d) => h('li', {},
      h('strong', {}, d.name), m.pendingDevice(dateTime(d.complete_until, f.timezone), d.last_synced_at ? dateTime(d.last_synced_at, f.timezone) : null)))));
}

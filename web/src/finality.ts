// Whether figures are final or still waiting for a device, in words: shared by the overview
// and the figures view.
import { h } from './dom.js';
import { dateTime } from './format.js';
import type { Figures } from './types.js';

export function finalityNote(f: Figures): HTMLElement {
  const waiting = f.buckets.filter((b) => !b.final).length;
  if (f.pending_devices.length === 0) {
    return h('p', { class: 'finality ok' }, waiting === 0 ? 'All figures shown are final.' : `Every device has sent its data; ${waiting === 1 ? 'the current period is' : `${waiting} periods are`} still in progress.`);
  }
  return h('div', { class: 'finality warn' },
    h('p', {}, `${waiting} of ${f.buckets.length} figure${f.buckets.length === 1 ? '' : 's'} may still change: waiting for ${f.pending_devices.length === 1 ? 'a device' : `${f.pending_devices.length} devices`}.`),
    h('ul', {}, f.pending_devices.map((d) => h('li', {},
      h('strong', {}, d.name), ` — data complete up to ${dateTime(d.complete_until, f.timezone)}; ${d.last_synced_at ? `last sync ${dateTime(d.last_synced_at, f.timezone)}` : 'never synced'}`))));
}

// The school's devices and their sync health: last sync, each channel's status, clock skew,
// records pending on the device, since when its data is behind, and whether it needs attention.
// A backoffice user may list every school's devices at once.
import { getAll } from '../api.js';
import { append, fill, h, table } from '../dom.js';
import { attentionCell, behindCell, channelsCell, lastSyncCell, skewCell } from '../device-cells.js';
import { flagLabel } from '../flag-labels.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import type { Device } from '../types.js';
import type { View } from '../view.js';

export const devicesView: View = {
  id: 'devices',
  mount(panel, ctx) {
    const { school, schools } = ctx;
    const everySchool = h('input', { type: 'checkbox', id: 'all-schools' });
    const list = h('div');
    append(panel, [
      h('h2', { class: 'view-title' }, m.devicesTitle),
      ctx.isBackoffice ? h('div', { class: 'controls no-print' }, h('label', { class: 'check', for: 'all-schools' }, everySchool, ` ${m.everySchool}`)) : null,
      list]);
    everySchool.addEventListener('change', () => ctx.refreshSoon());
    const schoolName = new Map(schools.map((s) => [s.id, s.name]));

    return {
      async refresh() {
        const all = everySchool.checked;
        const devices = await getAll<Device>(all ? '/api/devices' : `/api/devices?school_id=${school.id}`);
        const attention = devices.filter((d) => d.needs_attention).length;
        fill(list,
          h('p', { class: attention ? 'finality warn' : 'finality ok' }, m.devicesSummary(devices.length, attention)),
          table(all ? m.devicesOfEverySchool : m.devicesOf(school.name),
            [m.device, ...(all ? [m.school] : []), m.lastSyncHeader, m.channels, m.clockSkew, m.pendingOnDevice, m.behindSince, m.attention, m.pendingFlags],
            devices.map((d) => [
              [h('strong', {}, d.name), h('br'), h('span', { class: 'muted' }, `${m.kind[d.kind] ?? d.kind}${d.firmware ? ` · ${m.firmware(d.firmware)}` : ''}`)],
              ...(all ? [schoolName.get(d.school_id) ?? String(d.school_id)] : []),
              lastSyncCell(d, school.timezone), channelsCell(d), skewCell(d), d.pending_records === null ? '—' : num(d.pending_records), behindCell(d, school.timezone),
              attentionCell(d), d.pending_flags.length ? h('ul', { class: 'plain' }, d.pending_flags.map((f) => h('li', { title: f }, flagLabel(f)))) : '—',
            ]), { empty: m.noDevice, className: 'devices' }));
      },
    };
  },
};

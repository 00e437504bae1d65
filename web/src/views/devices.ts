// The school's devices and their sync health: last sync, each channel's status, clock skew,
// records pending on the device, since when its data is behind, and whether it needs attention.
// A backoffice user may list every school's devices at once.
import { getAll } from '../api.js';
import { append, fill, h, table } from '../dom.js';
import { attentionCell, behindCell, channelsCell, lastSyncCell, skewCell } from '../device-cells.js';
import type { Device } from '../types.js';
import type { View } from '../view.js';

export const devicesView: View = {
  id: 'devices',
  title: 'Devices',
  mount(panel, ctx) {
    const { school, schools } = ctx;
    const everySchool = h('input', { type: 'checkbox', id: 'all-schools' });
    const list = h('div');
    append(panel, [
      h('h2', { class: 'view-title' }, 'Devices'),
      ctx.isBackoffice ? h('div', { class: 'controls' }, h('label', { class: 'check', for: 'all-schools' }, everySchool, ' Every school')) : null,
      list]);
    everySchool.addEventListener('change', () => ctx.refreshSoon());
    const schoolName = new Map(schools.map((s) => [s.id, s.name]));

    return {
      async refresh() {
        const all = everySchool.checked;
        const devices = await getAll<Device>(all ? '/api/devices' : `/api/devices?school_id=${school.id}`);
        const attention = devices.filter((d) => d.needs_attention).length;
        fill(list,
          h('p', { class: attention ? 'finality warn' : 'finality ok' }, `${devices.length} device${devices.length === 1 ? '' : 's'}; ${attention} need${attention === 1 ? 's' : ''} attention.`),
          table(all ? 'Devices of every school' : `Devices of ${school.name}`,
            ['Device', ...(all ? ['School'] : []), 'Last sync', 'Channels', 'Clock skew', 'Pending on device', 'Behind since', 'Attention', 'Pending flags'],
            devices.map((d) => [
              [h('strong', {}, d.name), h('br'), h('span', { class: 'muted' }, `${d.kind}${d.firmware ? ` · fw ${d.firmware}` : ''}`)],
              ...(all ? [schoolName.get(d.school_id) ?? String(d.school_id)] : []),
              lastSyncCell(d, school.timezone), channelsCell(d), skewCell(d), d.pending_records ?? '—', behindCell(d, school.timezone),
              attentionCell(d), d.pending_flags.join(', ') || '—',
            ]), { empty: 'No device registered.', className: 'devices' }));
      },
    };
  },
};

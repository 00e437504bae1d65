// Devices that need attention, across every school (backoffice): stuck in status 1 or 2,
// silent longer than their sync interval, clock off, with one-click remedies: reset the
// session (RESET_SESSION acts at once) or ask for a full resync (FULL_RESYNC, next upload).
import { getAll, post } from '../api.js';
import { fill, h, table } from '../dom.js';
import { attentionCell, channelsCell, lastSyncCell, skewCell } from '../device-cells.js';
import type { Device } from '../types.js';
import type { View } from '../view.js';

export const attentionView: View = {
  id: 'attention',
  title: 'Needs attention',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school, schools } = ctx;
    const thisSchool = h('input', { type: 'checkbox', id: 'attention-this-school' });
    const list = h('div');
    const schoolName = new Map(schools.map((s) => [s.id, s.name]));
    panel.append(
      h('h2', { class: 'view-title' }, 'Devices that need attention'),
      h('div', { class: 'controls' }, h('label', { class: 'check', for: 'attention-this-school' }, thisSchool, ` Only ${school.name}`)),
      list);
    thisSchool.addEventListener('change', () => ctx.refreshSoon());

    async function remedy(d: Device, name: 'RESET_SESSION' | 'FULL_RESYNC', button: HTMLButtonElement): Promise<void> {
      button.disabled = true;
      try {
        await post(`/api/devices/${d.id}/flags`, { name });
        ctx.notify(name === 'RESET_SESSION' ? `Session reset on ${d.name}: its channels are idle again.` : `Full resync requested from ${d.name}: it applies on its next upload.`);
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
        button.disabled = false;
      }
    }

    return {
      async refresh() {
        const devices = await getAll<Device>(thisSchool.checked ? `/api/devices?attention=true&school_id=${school.id}` : '/api/devices?attention=true');
        fill(list, table(`Devices needing attention (${devices.length})`, ['Device', 'School', 'Why', 'Channels', 'Last sync', 'Clock skew', 'Remedy'],
          devices.map((d) => {
            const reset = h('button', { type: 'button', 'aria-label': `Reset the session of ${d.name}` }, 'Reset session');
            const resync = h('button', { type: 'button', class: 'secondary', 'aria-label': `Ask ${d.name} for a full resync`, disabled: d.pending_flags.includes('FULL_RESYNC') }, d.pending_flags.includes('FULL_RESYNC') ? 'Resync pending' : 'Full resync');
            reset.addEventListener('click', () => void remedy(d, 'RESET_SESSION', reset));
            resync.addEventListener('click', () => void remedy(d, 'FULL_RESYNC', resync));
            return [h('strong', {}, d.name), schoolName.get(d.school_id) ?? String(d.school_id), attentionCell(d), channelsCell(d),
              lastSyncCell(d, school.timezone), skewCell(d), h('div', { class: 'actions' }, reset, resync)];
          }), { empty: 'Every device is fine.', className: 'attention' }));
      },
    };
  },
};

// Sync session history of a device, newest first, and the rows each session rejected.
import { get, getAll } from '../api.js';
import { badge, field, fill, h, select, table } from '../dom.js';
import { dateTime, skew } from '../format.js';
import type { Device, Page, Rejection, Session } from '../types.js';
import type { View } from '../view.js';

const TONE = { processing: 'info', ready: 'warn', acknowledged: 'ok', closed: 'bad' } as const;

export const sessionsView: View = {
  id: 'sessions',
  title: 'Sessions',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school } = ctx;
    const device = select([]);
    const list = h('div');
    const detail = h('div', { 'aria-live': 'polite' });
    panel.append(h('h2', { class: 'view-title' }, `Sync sessions at ${school.name}`), h('div', { class: 'controls' }, field('Device', device)), list, detail);
    device.addEventListener('change', () => { fill(detail); ctx.refreshSoon(); });

    async function showRejections(s: Session): Promise<void> {
      try {
        const page = await get<Page<Rejection>>(`/api/sessions/${s.id}/rejections?limit=200`);
        fill(detail, table(`Rejections of the session received ${dateTime(s.received_at, school.timezone)} (${s.rejection_count})`, ['File', 'Line', 'Record', 'Code'],
          page.items.map((r) => [r.file, r.line, r.record_id ?? '—', r.code]), { empty: 'No rejected row.' }),
        page.next_cursor ? h('p', { class: 'muted' }, `First ${page.items.length} shown; the API pages through all of them.`) : null);
        detail.querySelector('table')?.setAttribute('tabindex', '-1');
        (detail.querySelector('table') as HTMLElement | null)?.focus();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    }

    return {
      async refresh() {
        const devices = await getAll<Device>(`/api/devices?school_id=${school.id}`);
        const chosen = device.value;
        fill(device, devices.map((d) => h('option', { value: d.id }, d.name)));
        device.value = devices.some((d) => d.id === chosen) ? chosen : devices[0]?.id ?? '';
        if (!device.value) return fill(list, h('p', { class: 'muted' }, 'No device registered.'));
        const sessions = await get<Page<Session>>(`/api/devices/${device.value}/sessions?limit=50`);
        fill(list, table('Latest sessions', ['Received', 'Channel', 'State', 'Rows received', 'Accepted', 'Duplicates', 'Rejected', 'Clock skew', ''],
          sessions.items.map((s) => {
            const button = h('button', { type: 'button', class: 'secondary', disabled: s.rejection_count === 0, 'aria-label': `Rejections of the session received ${dateTime(s.received_at, school.timezone)}` }, 'Rejections');
            button.addEventListener('click', () => void showRejections(s));
            return [dateTime(s.received_at, school.timezone), s.channel, badge(s.outcome === 'failed' ? 'failed' : s.outcome === 'partial' ? `${s.state}, partial` : s.state, s.outcome === 'failed' ? 'bad' : s.outcome === 'partial' ? 'warn' : TONE[s.state]),
              s.counts.received, s.counts.accepted, s.counts.duplicates, s.counts.rejected, skew(s.clock_skew_seconds), button];
          }), { empty: 'This device has not synced yet.' }));
      },
    };
  },
};

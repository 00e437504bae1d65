// Fever alerts of the school, newest first: user, time, temperature and the device that read it.
import { get, getAll } from '../api.js';
import { field, fill, h, table } from '../dom.js';
import { addDays, dateTime, startOfDay } from '../format.js';
import { todayIn } from '../school-time.js';
import type { Device, FeverAlert, Page } from '../types.js';
import type { View } from '../view.js';

export const alertsView: View = {
  id: 'alerts',
  title: 'Fever alerts',
  mount(panel, ctx) {
    const { school } = ctx;
    const today = todayIn(school.timezone);
    const from = h('input', { type: 'date', value: addDays(today, -6) });
    const to = h('input', { type: 'date', value: today });
    const list = h('div');
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load older alerts');
    let alerts: FeverAlert[] = [];
    let cursor: string | null = null;
    let deviceNames = new Map<string, string>();
    panel.append(
      h('h2', { class: 'view-title' }, `Fever alerts at ${school.name}`),
      h('p', { class: 'muted' }, `A temperature at or above ${school.fever_threshold.toFixed(1)} °C raises an alert.`),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); ctx.refreshSoon(); }) as EventListener },
        field('From', from), field('To', to), h('button', { type: 'submit' }, 'Show')),
      list, more);

    const query = () => `/api/alerts?school_id=${school.id}&from=${encodeURIComponent(startOfDay(from.value, school.timezone).toISOString())}`
      + `&to=${encodeURIComponent(startOfDay(addDays(to.value, 1), school.timezone).toISOString())}&limit=100`;
    const draw = () => {
      fill(list, table(`Fever alerts (${alerts.length}${cursor ? '+' : ''})`, ['Time', 'User', 'Temperature', 'Device'],
        alerts.map((a) => [dateTime(a.occurred_at, school.timezone), a.user_name ?? '—', `${a.temperature.toFixed(1)} °C`,
          a.device_id ? deviceNames.get(a.device_id) ?? a.device_id : 'entered by staff']), { empty: 'No fever alert in this range.' }));
      more.hidden = !cursor;
    };
    more.addEventListener('click', async () => {
      try {
        const page = await get<Page<FeverAlert>>(`${query()}&cursor=${encodeURIComponent(cursor!)}`);
        alerts = [...alerts, ...page.items];
        cursor = page.next_cursor;
        draw();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    });

    return {
      async refresh() {
        if (!from.value || !to.value || from.value > to.value) throw new Error('Choose a start date on or before the end date.');
        const [page, devices] = await Promise.all([get<Page<FeverAlert>>(query()), getAll<Device>(`/api/devices?school_id=${school.id}`)]);
        deviceNames = new Map(devices.map((d) => [d.id, d.name]));
        alerts = page.items;
        cursor = page.next_cursor;
        draw();
      },
    };
  },
};

// Fever alerts of the school, newest first: pupil (a link to their page), time, temperature and
// the device that read it; downloadable as CSV or XLSX (every alert of the range).
import { get, getAll } from '../api.js';
import { dateRange } from '../date-range.js';
import { exportButtons } from '../export-buttons.js';
import { field, fill, h, table } from '../dom.js';
import { addDays, dateTime, startOfDay, temperature } from '../format.js';
import { m } from '../i18n.js';
import { pupilLink } from '../pupil-link.js';
import type { Device, FeverAlert, Page } from '../types.js';
import type { View } from '../view.js';

export const alertsView: View = {
  id: 'alerts',
  mount(panel, ctx) {
    const { school } = ctx;
    const range = dateRange(ctx, 6);
    const list = h('div');
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, m.loadOlderAlerts);
    let alerts: FeverAlert[] = [];
    let cursor: string | null = null;
    let deviceNames = new Map<string, string>();
    range.commit();
    panel.append(
      h('h2', { class: 'view-title' }, m.alertsAt(school.name)),
      h('p', { class: 'muted' }, m.thresholdNote(temperature(school.fever_threshold))),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); range.commit(); ctx.refreshSoon(); }) as EventListener },
        field(m.from, range.from), field(m.to, range.to), h('button', { type: 'submit' }, m.show), exportButtons(() => (range.valid() ? query().replace('&limit=100', '') : null), ctx.notify)),
      range.summary, list, more);

    const query = () => `/api/alerts?school_id=${school.id}&from=${encodeURIComponent(startOfDay(range.from.value, school.timezone).toISOString())}`
      + `&to=${encodeURIComponent(startOfDay(addDays(range.to.value, 1), school.timezone).toISOString())}&limit=100`;
    const deviceOf = (a: FeverAlert) => (a.device_id ? deviceNames.get(a.device_id) ?? a.device_id : m.enteredByStaff);
    const draw = () => {
      fill(list, table(m.alertsCaption(alerts.length, cursor !== null), [m.time, m.pupil, m.temperature, m.device],
        alerts.map((a) => [dateTime(a.occurred_at, school.timezone), pupilLink(ctx, a.user_id, a.user_name), temperature(a.temperature), deviceOf(a)]),
        { empty: m.noAlertInRange, className: 'alerts' }));
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
        if (!range.valid()) throw new Error(m.rangeError);
        const [page, devices] = await Promise.all([get<Page<FeverAlert>>(query()), getAll<Device>(`/api/devices?school_id=${school.id}`)]);
        deviceNames = new Map(devices.map((d) => [d.id, d.name]));
        alerts = page.items;
        cursor = page.next_cursor;
        draw();
      },
    };
  },
};

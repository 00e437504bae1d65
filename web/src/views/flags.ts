// Special sync flags (docs/FLAGS.md), backoffice only: set one on a device or on every device
// of the school, see each flag pending → delivered → applied, cancel one still pending.
import { del, get, getAll, post } from '../api.js';
import { badge, field, fill, h, select, table } from '../dom.js';
import { dateTime } from '../format.js';
import type { Device, Flag, Page } from '../types.js';
import type { View } from '../view.js';

const FLAG_NAMES = ['FULL_RESYNC', 'RESEND_SINCE', 'RELOAD_ROSTER', 'REPORT_SETTINGS', 'SET_SETTINGS', 'PURGE_CONFIRMED_LOGS', 'REBOOT', 'RESET_SESSION'];
const TONE = { pending: 'warn', delivered: 'info', applied: 'ok', cancelled: 'info', expired: 'bad' } as const;

/** SET_SETTINGS typed as `name=value` lines. */
function settingsOf(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const at = l.indexOf('=');
    return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
  }));
}

export const flagsView: View = {
  id: 'flags',
  title: 'Flags',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school } = ctx;
    const target = select([['school', `Every device of ${school.name}`]]);
    const name = select(FLAG_NAMES.map((n) => [n, n]), 'FULL_RESYNC');
    const since = h('input', { type: 'date' });
    const settings = h('textarea', { rows: 3, placeholder: 'volume=5' });
    const sinceField = field('Resend since (school day)', since);
    const settingsField = field('Settings, one name=value per line', settings);
    const submit = h('button', { type: 'submit' }, 'Set flag');
    const stateFilter = select([['', 'Every state'], ['pending', 'Pending'], ['delivered', 'Delivered'], ['applied', 'Applied'], ['cancelled', 'Cancelled'], ['expired', 'Expired']]);
    const list = h('div');
    let devices: Device[] = [];
    const showParams = () => {
      sinceField.hidden = name.value !== 'RESEND_SINCE';
      settingsField.hidden = name.value !== 'SET_SETTINGS';
    };
    showParams();
    name.addEventListener('change', showParams);
    stateFilter.addEventListener('change', () => ctx.refreshSoon());

    const form = h('form', { class: 'controls', 'aria-label': 'Set a flag' },
      field('Target', target), field('Flag', name), sinceField, settingsField, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const params = name.value === 'RESEND_SINCE' ? { since: since.value } : name.value === 'SET_SETTINGS' ? settingsOf(settings.value) : {};
      const path = target.value === 'school' ? `/api/schools/${school.id}/flags` : `/api/devices/${target.value}/flags`;
      submit.disabled = true;
      try {
        await post(path, { name: name.value, params });
        const where = target.value === 'school' ? `every device of ${school.name}` : devices.find((d) => d.id === target.value)?.name;
        ctx.notify(`${name.value} set on ${where}.`);
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      } finally {
        submit.disabled = false;
      }
    });
    panel.append(h('h2', { class: 'view-title' }, `Flags at ${school.name}`), form, h('div', { class: 'controls' }, field('Show', stateFilter)), list);

    async function cancel(flag: Flag, device: string, button: HTMLButtonElement): Promise<void> {
      button.disabled = true;
      try {
        await del(`/api/devices/${flag.device_id}/flags/${flag.id}`);
        ctx.notify(`${flag.name} cancelled on ${device}.`);
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
      ctx.refreshSoon();
    }

    return {
      async refresh() {
        devices = await getAll<Device>(`/api/devices?school_id=${school.id}`);
        const chosen = target.value;
        fill(target, h('option', { value: 'school' }, `Every device of ${school.name}`), devices.map((d) => h('option', { value: d.id }, d.name)));
        target.value = devices.some((d) => d.id === chosen) ? chosen : 'school';
        const state = stateFilter.value ? `&state=${stateFilter.value}` : '';
        const pages = await Promise.all(devices.map((d) => get<Page<Flag>>(`/api/devices/${d.id}/flags?limit=50${state}`)));
        const names = new Map(devices.map((d) => [d.id, d.name]));
        const flags = pages.flatMap((p) => p.items).sort((a, b) => b.set_at.localeCompare(a.set_at) || b.id - a.id);
        fill(list, table(`Flags (${flags.length})`, ['Device', 'Flag', 'State', 'Set', 'Delivered', 'Applied or cancelled', ''],
          flags.map((f) => {
            const device = names.get(f.device_id) ?? f.device_id;
            let action: HTMLElement | string = '';
            if (f.state === 'pending') {
              const button = h('button', { type: 'button', class: 'secondary', 'aria-label': `Cancel ${f.name} on ${device}` }, 'Cancel');
              button.addEventListener('click', () => void cancel(f, device, button));
              action = button;
            }
            const params = Object.keys(f.params).length ? ` ${JSON.stringify(f.params)}` : '';
            return [device, `${f.name}${params}`, badge(f.state, TONE[f.state]), `${dateTime(f.set_at, school.timezone)}${f.set_by_email ? ` by ${f.set_by_email}` : ''}`,
              dateTime(f.delivered_at, school.timezone), dateTime(f.applied_at ?? f.cancelled_at, school.timezone), action];
          }), { empty: 'No flag.', className: 'flags' }));
      },
    };
  },
};

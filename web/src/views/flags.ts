// Special sync flags (docs/FLAGS.md), backoffice only: set one on a device or on every device
// of the school, see each flag pending → delivered → applied, cancel one still pending. Each
// flag is named in words with a line saying what it does; a flag for every device of the
// school, and one that restarts a device, deletes its logs or resets its session, asks first.
import { del, get, getAll, post } from '../api.js';
import { confirmAction } from '../confirm.js';
import { badge, field, fill, h, select, table } from '../dom.js';
import { flagHelp, flagLabel } from '../flag-labels.js';
import { dateTime } from '../format.js';
import { m } from '../i18n.js';
import type { Device, Flag, Page } from '../types.js';
import type { View } from '../view.js';

const FLAG_NAMES = ['FULL_RESYNC', 'RESEND_SINCE', 'RELOAD_ROSTER', 'REPORT_SETTINGS', 'SET_SETTINGS', 'PURGE_CONFIRMED_LOGS', 'REBOOT', 'RESET_SESSION'];
/** Flags that interrupt a device or cannot be taken back: confirmed even on one device. */
const DISRUPTIVE = new Set(['REBOOT', 'PURGE_CONFIRMED_LOGS', 'RESET_SESSION']);
const TONE = { pending: 'warn', delivered: 'info', applied: 'ok', cancelled: 'info', expired: 'bad' } as const;
const STATES = ['pending', 'delivered', 'applied', 'cancelled', 'expired'] as const;

/** SET_SETTINGS typed as `name=value` lines. */
function settingsOf(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const at = l.indexOf('=');
    return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
  }));
}

export const flagsView: View = {
  id: 'flags',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school } = ctx;
    const target = select([['school', m.everyDeviceOf(school.name)]]);
    const name = select(FLAG_NAMES.map((n) => [n, flagLabel(n)]), 'FULL_RESYNC');
    const help = h('p', { class: 'flag-help muted', id: 'flag-help', 'aria-live': 'polite' });
    name.setAttribute('aria-describedby', 'flag-help');
    const since = h('input', { type: 'date' });
    const settings = h('textarea', { rows: 3, placeholder: 'volume=5' });
    const sinceField = field(m.resendSince, since);
    const settingsField = field(m.settingsLines, settings);
    const submit = h('button', { type: 'submit' }, m.setFlag);
    const stateFilter = select([['', m.everyState], ...STATES.map((s): [string, string] => [s, m.flagStateFilter[s]])]);
    const list = h('div');
    let devices: Device[] = [];
    const showParams = () => {
      sinceField.hidden = name.value !== 'RESEND_SINCE';
      settingsField.hidden = name.value !== 'SET_SETTINGS';
      help.textContent = `${flagHelp(name.value)} (${name.value})`;
    };
    showParams();
    name.addEventListener('change', showParams);
    stateFilter.addEventListener('change', () => ctx.refreshSoon());

    const form = h('form', { class: 'controls', 'aria-label': m.setAFlag },
      field(m.target, target), field(m.flag, name), sinceField, settingsField, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const flag = name.value;
      const params = flag === 'RESEND_SINCE' ? { since: since.value } : flag === 'SET_SETTINGS' ? settingsOf(settings.value) : {};
      const everyDevice = target.value === 'school';
      const where = everyDevice ? m.everyDeviceOf(school.name) : devices.find((d) => d.id === target.value)?.name ?? target.value;
      if ((everyDevice || DISRUPTIVE.has(flag))
        && !(await confirmAction(m.confirmFlagTitle(flagLabel(flag), where), [flagHelp(flag), everyDevice ? m.confirmSchoolWide(devices.length) : ''].filter(Boolean), m.setFlag))) return;
      const path = everyDevice ? `/api/schools/${school.id}/flags` : `/api/devices/${target.value}/flags`;
      submit.disabled = true;
      try {
        await post(path, { name: flag, params });
        ctx.notify(m.flagSet(flagLabel(flag), where));
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      } finally {
        submit.disabled = false;
      }
    });
    panel.append(h('h2', { class: 'view-title' }, m.flagsAt(school.name)), form, help, h('div', { class: 'controls' }, field(m.showState, stateFilter)), list);

    async function cancel(flag: Flag, device: string, button: HTMLButtonElement): Promise<void> {
      button.disabled = true;
      try {
        await del(`/api/devices/${flag.device_id}/flags/${flag.id}`);
        ctx.notify(m.flagCancelled(flagLabel(flag.name), device));
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
      ctx.refreshSoon();
    }

    return {
      async refresh() {
        devices = await getAll<Device>(`/api/devices?school_id=${school.id}`);
        const chosen = target.value;
        fill(target, h('option', { value: 'school' }, m.everyDeviceOf(school.name)), devices.map((d) => h('option', { value: d.id }, d.name)));
        target.value = devices.some((d) => d.id === chosen) ? chosen : 'school';
        const state = stateFilter.value ? `&state=${stateFilter.value}` : '';
        const pages = await Promise.all(devices.map((d) => get<Page<Flag>>(`/api/devices/${d.id}/flags?limit=50${state}`)));
        const names = new Map(devices.map((d) => [d.id, d.name]));
        const flags = pages.flatMap((p) => p.items).sort((a, b) => b.set_at.localeCompare(a.set_at) || b.id - a.id);
        fill(list, table(m.flagsCaption(flags.length), [m.device, m.flag, m.stateHeader, m.setHeader, m.deliveredHeader, m.appliedOrCancelled, ''],
          flags.map((f) => {
            const device = names.get(f.device_id) ?? f.device_id;
            let action: HTMLElement | string = '';
            if (f.state === 'pending') {
              const button = h('button', { type: 'button', class: 'secondary', 'aria-label': m.cancelFlagOf(flagLabel(f.name), device) }, m.cancel);
              button.addEventListener('click', () => void cancel(f, device, button));
              action = button;
            }
            const params = Object.keys(f.params).length ? ` ${JSON.stringify(f.params)}` : '';
            return [device, [h('span', { title: `${f.name} — ${flagHelp(f.name)}` }, flagLabel(f.name)), params], badge(m.flagStates[f.state], TONE[f.state]),
              f.set_by_email ? m.setBy(dateTime(f.set_at, school.timezone), f.set_by_email) : dateTime(f.set_at, school.timezone),
              dateTime(f.delivered_at, school.timezone), dateTime(f.applied_at ?? f.cancelled_at, school.timezone), action];
          }), { empty: m.noFlag, className: 'flags' }));
      },
    };
  },
};

// Devices that need attention, across every school (backoffice): stuck in status 1 or 2,
// silent longer than their sync interval, clock off, a PUSH terminal's calls held from another
// address, with remedies: reset the session (RESET_SESSION acts at once, so it asks first, saying
// what it does), ask for a full resync (FULL_RESYNC, next upload), or confirm where a PUSH
// terminal is (its bound address or the one that claimed it; asks first, naming both).
import { get, getAll, post } from '../api.js';
import { confirmAction } from '../confirm.js';
import { fill, h, table } from '../dom.js';
import { attentionCell, channelsCell, lastSyncCell, skewCell } from '../device-cells.js';
import { m } from '../i18n.js';
import type { Device } from '../types.js';
import type { View } from '../view.js';

export const attentionView: View = {
  id: 'attention',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school, schools } = ctx;
    const thisSchool = h('input', { type: 'checkbox', id: 'attention-this-school' });
    const list = h('div');
    const schoolName = new Map(schools.map((s) => [s.id, s.name]));
    panel.append(
      h('h2', { class: 'view-title' }, m.attentionTitle),
      h('div', { class: 'controls no-print' }, h('label', { class: 'check', for: 'attention-this-school' }, thisSchool, ` ${m.onlySchool(school.name)}`)),
      list);
    thisSchool.addEventListener('change', () => ctx.refreshSoon());

    async function remedy(d: Device, name: 'RESET_SESSION' | 'FULL_RESYNC', button: HTMLButtonElement): Promise<void> {
      if (name === 'RESET_SESSION' && !(await confirmAction(m.confirmResetTitle(d.name), [m.confirmResetBody], m.resetSession))) return;
      button.disabled = true;
      try {
        await post(`/api/devices/${d.id}/flags`, { name });
        ctx.notify(name === 'RESET_SESSION' ? m.sessionResetDone(d.name) : m.resyncRequested(d.name));
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
        button.disabled = false;
      }
    }

    async function confirmAddress(d: Device, address: string, b: { bound: string; claimed: string }, button: HTMLButtonElement): Promise<void> {
      if (!(await confirmAction(m.confirmAddressTitle(d.name, address), m.confirmAddressBody(b.bound, b.claimed), m.addressMoveTo(address)))) return;
      button.disabled = true;
      try {
        await post(`/api/push/terminals/${d.id}/address`, { address });
        ctx.notify(m.addressConfirmed(d.name, address));
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
        button.disabled = false;
      }
    }

    /** The bound and the claimed address of each PUSH terminal whose calls are held. */
    async function bindings(devices: Device[]): Promise<Map<string, { bound: string | null; claimed: string | null }>> {
      const held = devices.filter((d) => d.address_alert !== null);
      const states = await Promise.all(held.map((d) => get<{ binding: { bound_address: string | null; claimed_address: string | null } }>(`/api/devices/${d.id}/push`)));
      return new Map(held.map((d, i) => [d.id, { bound: states[i].binding.bound_address, claimed: states[i].binding.claimed_address }]));
    }

    function addressButtons(d: Device, b: { bound: string | null; claimed: string | null } | undefined): HTMLElement[] {
      if (!b?.bound || !b.claimed) return [];
      const { bound, claimed } = b;
      const move = h('button', { type: 'button', 'aria-label': m.addressMoveOf(d.name, claimed) }, m.addressMoveTo(claimed));
      const keep = h('button', { type: 'button', class: 'secondary', 'aria-label': m.addressKeepOf(d.name, bound) }, m.addressKeep(bound));
      move.addEventListener('click', () => void confirmAddress(d, claimed, { bound, claimed }, move));
      keep.addEventListener('click', () => void confirmAddress(d, bound, { bound, claimed }, keep));
      return [move, keep];
    }

    return {
      async refresh() {
        const devices = await getAll<Device>(thisSchool.checked ? `/api/devices?attention=true&school_id=${school.id}` : '/api/devices?attention=true');
        const held = await bindings(devices);
        fill(list, table(m.attentionCaption(devices.length), [m.device, m.school, m.why, m.channels, m.lastSyncHeader, m.clockSkew, m.remedy],
          devices.map((d) => {
            const pending = d.pending_flags.includes('FULL_RESYNC');
            const reset = h('button', { type: 'button', 'aria-label': m.resetSessionOf(d.name) }, m.resetSession);
            const resync = h('button', { type: 'button', class: 'secondary', 'aria-label': m.fullResyncOf(d.name), disabled: pending }, pending ? m.resyncPending : m.fullResync);
            reset.addEventListener('click', () => void remedy(d, 'RESET_SESSION', reset));
            resync.addEventListener('click', () => void remedy(d, 'FULL_RESYNC', resync));
            return [h('strong', {}, d.name), schoolName.get(d.school_id) ?? String(d.school_id), attentionCell(d), channelsCell(d),
              lastSyncCell(d, school.timezone), skewCell(d), h('div', { class: 'actions' }, ...addressButtons(d, held.get(d.id)), reset, resync)];
          }), { empty: m.everyDeviceFine, className: 'attention' }));
      },
    };
  },
};

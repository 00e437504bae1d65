// Held punches (docs/protocol/push.md §4 "held punches", docs/protocol/v4.md §4): punches the devices
// were answered for but that name no user of the school (a pupil enrolled on the terminal before
// the roster) or carry a clock ahead of the server's. Listed per device and PIN, then per PIN,
// with counts and first and last times; each group is imported as a pupil (the one who now
// carries the PIN, or one picked), or discarded after a confirmation. Who did it stays on the rows.
import { get, post } from '../api.js';
import { confirmAction } from '../confirm.js';
import { badge, fill, h, table } from '../dom.js';
import { dateTime } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import { pupilPicker } from '../pupil-picker.js';
import type { HeldGroup, User } from '../types.js';
import type { View } from '../view.js';

export const heldView: View = {
  id: 'held',
  mount(panel, ctx) {
    const { school } = ctx;
    const byDevice = h('div');
    const byPin = h('div');
    fill(panel, h('h2', { class: 'view-title' }, m.tabs.held), h('p', { class: 'muted' }, m.heldHelp), byDevice, byPin);
    /** What was drawn last: a refresh with the same groups leaves the page (and a half-typed pupil) alone. */
    let drawn = '';

    const selectorOf = (g: HeldGroup) => ({ pin: g.pin, reason: g.reason, device_id: g.device_id });

    const importAs = async (g: HeldGroup, user: { id: number; name: string }, button: HTMLButtonElement) => {
      button.disabled = true;
      try {
        const res = await post<{ imported: number; already: number }>(`/api/schools/${school.id}/held-punches/import`, { ...selectorOf(g), user_id: user.id });
        ctx.notify(m.heldImported(res.imported, res.already, user.name), 'ok');
      } catch (err) {
        button.disabled = false;
        ctx.notify(m.heldNotImported((err as Error).message), 'error');
      }
      ctx.refreshSoon();
    };

    const discard = async (g: HeldGroup) => {
      if (!await confirmAction(m.heldDiscardTitle(g.pin), [m.heldDiscardBody(g.punches, g.device_name)], m.heldDiscard)) return;
      try {
        const res = await post<{ discarded: number }>(`/api/schools/${school.id}/held-punches/discard`, selectorOf(g));
        ctx.notify(m.heldDiscarded(res.discarded), 'ok');
      } catch (err) {
        ctx.notify(m.heldNotDiscarded((err as Error).message), 'error');
      }
      ctx.refreshSoon();
    };

    /** Import as the pupil who now carries the PIN (the roster gained it), or as one picked here. */
    const actions = (g: HeldGroup) => {
      const discardButton = h('button', { type: 'button', class: 'secondary' }, m.heldDiscard);
      discardButton.addEventListener('click', () => void discard(g));
      if (g.user) {
        const owner = g.user;
        const button = h('button', { type: 'button' }, m.heldImportAs(owner.name));
        button.addEventListener('click', () => void importAs(g, owner, button));
        return h('div', { class: 'held-actions' }, button, ' ', discardButton);
      }
      let chosen: User | null = null;
      const button = h('button', { type: 'button', disabled: true }, m.heldImport);
      const picker = pupilPicker(school.id, (user) => {
        chosen = user;
        button.disabled = false;
        button.textContent = m.heldImportAs(user.name);
      });
      button.addEventListener('click', () => { if (chosen) void importAs(g, chosen, button); });
      return h('div', { class: 'held-actions' }, picker.element, button, ' ', discardButton);
    };

    const reasonBadge = (g: HeldGroup) => badge(m.heldReason[g.reason] ?? g.reason, g.reason === 'in_future' ? 'warn' : 'info');

    return {
      async refresh() {
        const items = (await get<{ items: HeldGroup[] }>(`/api/schools/${school.id}/held-punches`)).items;
        const key = JSON.stringify(items);
        if (key === drawn) return;
        drawn = key;
        fill(byDevice, table(m.heldOf(school.name), [m.device, m.heldPin, m.heldReasonColumn, m.heldPunches, m.heldFirst, m.heldLast, m.heldAction],
          items.map((g) => [
            [h('strong', {}, g.device_name), h('br'), h('span', { class: 'muted' }, g.source === 'push' ? m.heldSourcePush : m.heldSourceV4)],
            g.pin, reasonBadge(g),
            [num(g.punches), g.with_temperature > 0 ? h('span', { class: 'muted' }, ` ${m.heldWithTemperature(g.with_temperature)}`) : null],
            dateTime(g.first_at, school.timezone), dateTime(g.last_at, school.timezone), actions(g),
          ]), { empty: m.noHeldPunch, className: 'held-punches' }));
        // Per PIN, every device together: how much one pupil enrolled on the terminals is missing.
        const pins = new Map<string, { pin: string; reason: HeldGroup['reason']; punches: number; devices: number; first: string; last: string }>();
        for (const g of items) {
          const k = `${g.reason}\t${g.pin}`;
          const p = pins.get(k);
          if (!p) pins.set(k, { pin: g.pin, reason: g.reason, punches: g.punches, devices: 1, first: g.first_at, last: g.last_at });
          else Object.assign(p, { punches: p.punches + g.punches, devices: p.devices + 1, first: g.first_at < p.first ? g.first_at : p.first, last: g.last_at > p.last ? g.last_at : p.last });
        }
        fill(byPin, items.length === 0 ? null : table(m.heldByPin, [m.heldPin, m.heldReasonColumn, m.heldPunches, m.heldDevices, m.heldFirst, m.heldLast],
          [...pins.values()].map((p) => [p.pin, badge(m.heldReason[p.reason] ?? p.reason, p.reason === 'in_future' ? 'warn' : 'info'), num(p.punches), num(p.devices),
            dateTime(p.first, school.timezone), dateTime(p.last, school.timezone)]), { className: 'held-by-pin' }));
      },
    };
  },
};

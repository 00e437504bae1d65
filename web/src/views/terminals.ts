// PUSH (ZKTeco-compatible) terminals (docs/protocol/push.md): the ones that called before being registered,
// with the address, model and firmware they reported, approved into the school in one click;
// and each terminal of the school with its last commands and results and how its own user list
// differs from the roster.
import { get, getAll, post } from '../api.js';
import { append, badge, fill, h, table, uid } from '../dom.js';
import { dateTime } from '../format.js';
import { m } from '../i18n.js';
import type { Device } from '../types.js';
import type { View } from '../view.js';

interface Pending { serial_number: string; last_seen_at: string | null; address: string | null; model: string | null; firmware: string | null; push_version: string | null }
interface Command { id: number; command: string; status: string; sends: number; return_code: number | null; failure: string | null; created_at: string }
interface Difference { pin: string; difference: string; roster_name: string | null; terminal_name: string | null }

const TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = { succeeded: 'ok', failed: 'bad', sent: 'info', queued: 'info', cancelled: 'warn' };

export const terminalsView: View = {
  id: 'terminals',
  mount(panel, ctx) {
    const { school } = ctx;
    const pendingBox = h('div');
    const list = h('div');
    append(panel, [h('h2', { class: 'view-title' }, m.tabs.terminals), ctx.isBackoffice ? pendingBox : null, list]);

    const approve = async (p: Pending) => {
      try {
        await post('/api/push/terminals', { serial_number: p.serial_number, school_id: school.id, name: p.model ? `${p.model} ${p.serial_number}` : p.serial_number });
        ctx.notify(m.terminalApproved(p.serial_number, school.name), 'ok');
      } catch (err) {
        ctx.notify(m.terminalNotApproved((err as Error).message), 'error');
      }
      ctx.refreshSoon();
    };

    /** The terminal's users the roster lacks, each with a checkbox, and the button that adds the ticked ones to the school. */
    const candidates = (deviceId: string, unknown: Difference[]) => {
      if (unknown.length === 0) return null;
      const boxes = unknown.map((x) => {
        const box = h('input', { type: 'checkbox', value: x.pin, id: uid('tu') });
        return { box, el: h('div', { class: 'terminal-user' }, box, ' ', h('label', { for: box.id }, m.terminalUserCandidate(x.pin, x.terminal_name))) };
      });
      const add = async (button: HTMLButtonElement) => {
        const pins = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
        if (pins.length === 0) return ctx.notify(m.chooseUsersToAdd, 'error');
        button.disabled = true;
        try {
          const res = await post<{ created: unknown[]; skipped: string[] }>(`/api/devices/${deviceId}/terminal-users/import`, { pins });
          ctx.notify(m.usersAddedToRoster(res.created.length, res.skipped.length), 'ok');
        } catch (err) {
          ctx.notify(m.usersNotAdded((err as Error).message), 'error');
        }
        ctx.refreshSoon();
      };
      const button = h('button', { type: 'button' }, m.addToRoster);
      button.addEventListener('click', () => void add(button));
      return h('div', { class: 'terminal-candidates' }, boxes.map((b) => b.el), button);
    };

    return {
      async refresh() {
        if (ctx.isBackoffice) {
          const pending = (await get<{ items: Pending[] }>('/api/push/pending')).items;
          fill(pendingBox, table(m.terminalsWaiting, [m.serialNumber, m.model, m.firmwareColumn, m.address, m.lastContact, ''],
            pending.map((p) => [p.serial_number, p.model ?? '—', p.firmware ?? '—', p.address ?? '—', p.last_seen_at ? dateTime(p.last_seen_at, school.timezone) : '—',
              h('button', { type: 'button', onclick: () => void approve(p) }, m.approveInto(school.name))]),
            { empty: m.noTerminalWaiting, className: 'pending-terminals' }));
        }
        const devices = (await getAll<Device & { protocol?: string; serial_number?: string | null }>(`/api/devices?school_id=${school.id}`)).filter((d) => d.protocol === 'push');
        const rows = await Promise.all(devices.map(async (d) => {
          const [commands, differences] = await Promise.all([
            get<{ items: Command[] }>(`/api/devices/${d.id}/commands?limit=5`),
            get<{ items: Difference[] }>(`/api/devices/${d.id}/terminal-users`),
          ]);
          return [
            [h('strong', {}, d.name), h('br'), h('span', { class: 'muted' }, `SN ${d.serial_number ?? '—'}${d.firmware ? ` · fw ${d.firmware}` : ''}`)],
            d.last_seen_at ? dateTime(d.last_seen_at, school.timezone) : m.never,
            commands.items.length === 0 ? '—' : commands.items.map((c) => h('div', {}, badge(m.commandStatus[c.status] ?? c.status, TONE[c.status] ?? 'info'), ` C:${c.id} ${c.command.split('\t')[0]}`,
              c.return_code !== null ? ` → ${c.return_code}` : '', c.failure ? h('span', { class: 'muted' }, ` (${c.failure})`) : '')),
            [differences.items.length === 0 ? badge(m.sameAsRoster, 'ok') : m.rosterDifferences(differences.items.length, differences.items.slice(0, 5).map((x) => `${x.pin} ${m.rosterDifference[x.difference] ?? x.difference}`).join(', ')),
              candidates(d.id, differences.items.filter((x) => x.difference === 'unknown_to_roster'))],
          ];
        }));
        fill(list, table(m.terminalsOf(school.name), [m.terminal, m.lastContact, m.lastCommands, m.usersOnTerminal], rows,
          { empty: m.noPushTerminal, className: 'push-terminals' }));
      },
    };
  },
};

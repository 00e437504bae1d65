// The school's devices and their sync health: last sync, each channel's status, clock skew,
// records pending on the device, since when its data is behind, and whether it needs attention.
// A backoffice user may list every school's devices at once. Staff register a device here (its
// secret and the QR code a mobile app scans to enrol are shown once: docs/DEVICES.md), rotate
// its secret (shown once again), disable and enable it; PUSH terminals have their own tab.
import { getAll, post } from '../api.js';
import { confirmAction } from '../confirm.js';
import { append, field, fill, h, select, table } from '../dom.js';
import { attentionCell, behindCell, channelsCell, lastSyncCell, skewCell } from '../device-cells.js';
import { flagLabel } from '../flag-labels.js';
import { copyable, onceDialog } from '../form-dialog.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import type { Device, DeviceWithSecret } from '../types.js';
import type { View } from '../view.js';

/** The secret and the enrolment QR code, shown once. */
async function showEnrolment(d: DeviceWithSecret): Promise<void> {
  await onceDialog(m.enrolTitle(d.name), [
    h('p', {}, m.enrolOnce),
    h('figure', { class: 'enrol-qr' }, h('img', { src: d.enrol_qr, alt: m.enrolQrAlt(d.name), width: 240, height: 240 }), h('figcaption', {}, m.enrolQrCaption)),
    copyable(m.deviceId, d.id, 'device-id'),
    copyable(m.deviceSecret, d.secret, 'device-secret'),
    copyable(m.enrolLink, d.enrol_uri, 'enrol-uri'),
  ]);
}

export const devicesView: View = {
  id: 'devices',
  mount(panel, ctx) {
    const { school, schools } = ctx;
    const everySchool = h('input', { type: 'checkbox', id: 'all-schools' });
    const list = h('div');
    const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
    const kind = select([['mobile', m.kind.mobile], ['terminal', m.kind.terminal]], 'mobile');
    const register = h('form', { class: 'controls no-print', 'aria-label': m.registerDevice },
      field(m.deviceName, name), field(m.deviceKind, kind), h('button', { type: 'submit' }, m.registerDevice));
    append(panel, [
      h('h2', { class: 'view-title' }, m.devicesTitle),
      register,
      ctx.isBackoffice ? h('div', { class: 'controls no-print' }, h('label', { class: 'check', for: 'all-schools' }, everySchool, ` ${m.everySchool}`)) : null,
      list]);
    everySchool.addEventListener('change', () => ctx.refreshSoon());
    const schoolName = new Map(schools.map((s) => [s.id, s.name]));

    register.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const created = await post<DeviceWithSecret>('/api/devices', { school_id: school.id, name: name.value.trim(), kind: kind.value });
        register.reset();
        ctx.refreshSoon();
        await showEnrolment(created);
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    });

    async function act(run: () => Promise<unknown>, done: string): Promise<void> {
      try {
        await run();
        ctx.notify(done);
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    }

    function actions(d: Device): HTMLElement | string {
      if (d.protocol === 'push') return h('span', { class: 'muted' }, m.seeTerminals);
      return h('div', { class: 'row-actions no-print' },
        h('button', {
          type: 'button', class: 'secondary', 'aria-label': m.rotateSecretOf(d.name),
          onclick: async () => {
            if (!(await confirmAction(m.rotateSecretOf(d.name), [m.rotateSecretBody], m.rotateSecret))) return;
            try {
              const rotated = await post<DeviceWithSecret>(`/api/devices/${d.id}/secret`);
              await showEnrolment(rotated);
            } catch (err) {
              ctx.notify((err as Error).message, 'error');
            }
          },
        }, m.rotateSecret),
        d.disabled_at
          ? h('button', { type: 'button', class: 'secondary', 'aria-label': m.enableNamed(d.name), onclick: () => void act(() => post(`/api/devices/${d.id}/enable`), m.deviceEnabled(d.name)) }, m.enable)
          : h('button', {
            type: 'button', class: 'secondary', 'aria-label': m.disableNamed(d.name),
            onclick: async () => {
              if (await confirmAction(m.disableNamed(d.name), [m.disableBody], m.disable)) await act(() => post(`/api/devices/${d.id}/disable`), m.deviceDisabled(d.name));
            },
          }, m.disable));
    }

    return {
      async refresh() {
        const all = everySchool.checked;
        const devices = await getAll<Device>(all ? '/api/devices' : `/api/devices?school_id=${school.id}`);
        const attention = devices.filter((d) => d.needs_attention).length;
        fill(list,
          h('p', { class: attention ? 'finality warn' : 'finality ok' }, m.devicesSummary(devices.length, attention)),
          table(all ? m.devicesOfEverySchool : m.devicesOf(school.name),
            [m.device, ...(all ? [m.school] : []), m.lastSyncHeader, m.channels, m.clockSkew, m.pendingOnDevice, m.behindSince, m.attention, m.pendingFlags, m.actions],
            devices.map((d) => [
              [h('strong', {}, d.name), h('br'), h('span', { class: 'muted' }, `${m.kind[d.kind] ?? d.kind}${d.firmware ? ` · ${m.firmware(d.firmware)}` : ''}${d.disabled_at ? ` · ${m.disabledWord}` : ''}`)],
              ...(all ? [schoolName.get(d.school_id) ?? String(d.school_id)] : []),
              lastSyncCell(d, school.timezone), channelsCell(d), skewCell(d), d.pending_records === null ? '—' : num(d.pending_records), behindCell(d, school.timezone),
              attentionCell(d), d.pending_flags.length ? h('ul', { class: 'plain' }, d.pending_flags.map((f) => h('li', { title: f }, flagLabel(f)))) : '—',
              actions(d),
            ]), { empty: m.noDevice, className: 'devices' }));
      },
    };
  },
};

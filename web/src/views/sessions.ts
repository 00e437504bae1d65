// Sync session history of a device, newest first, and the rows each session rejected. Above
// the list, the device's last sync as the Devices tab writes it (the same field, lastSyncOf):
// a device whose sessions are not kept (demo data, retention) still reads as synced here.
import { get, getAll } from '../api.js';
import { badge, field, fill, h, select, table } from '../dom.js';
import { lastSyncOf, skewCell } from '../device-cells.js';
import { ago, dateTime, skew, skewTitle } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import type { Device, Page, Rejection, Session } from '../types.js';
import type { View } from '../view.js';

const TONE = { processing: 'info', ready: 'warn', acknowledged: 'ok', closed: 'bad' } as const;

/**
 * A session's state in words and tone: a batch that failed, imported in part, or whose rows were
 * refused is never a plain green "acknowledged" (issue 30: every row refused read as success).
 */
function stateBadge(s: Session): HTMLElement {
  if (s.outcome === 'failed') return badge(m.sessionStates.failed, 'bad');
  let text = m.sessionStates[s.state];
  let tone: 'ok' | 'info' | 'warn' | 'bad' = TONE[s.state];
  if (s.outcome === 'partial') {
    text = m.sessionPartial(text);
    tone = 'warn';
  }
  if (s.rows_refused === 'all') return badge(m.sessionAllRefused(text), 'bad');
  if (s.rows_refused === 'some') return badge(m.sessionSomeRefused(text, s.counts.rejected), tone === 'ok' ? 'warn' : tone);
  return badge(text, tone);
}

export const sessionsView: View = {
  id: 'sessions',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school } = ctx;
    const device = select([]);
    const summary = h('p', { class: 'device-sync' });
    const list = h('div');
    const detail = h('div', { 'aria-live': 'polite' });
    panel.append(h('h2', { class: 'view-title' }, m.sessionsAt(school.name)), h('div', { class: 'controls' }, field(m.device, device)), summary, list, detail);
    device.addEventListener('change', () => { fill(detail); ctx.refreshSoon(); });

    async function showRejections(s: Session): Promise<void> {
      try {
        const when = dateTime(s.received_at, school.timezone);
        const page = await get<Page<Rejection>>(`/api/sessions/${s.id}/rejections?limit=200`);
        fill(detail, table(m.rejectionsCaption(when, s.rejection_count), [m.file, m.line, m.record, m.code, m.rejectionDetail],
          page.items.map((r) => [r.file, num(r.line), r.record_id ?? '—', r.code, r.detail ?? '—']), { empty: m.noRejectedRow }),
        page.next_cursor ? h('p', { class: 'muted' }, m.firstShown(page.items.length)) : null);
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
        const d = devices.find((x) => x.id === device.value);
        if (!d) {
          fill(summary);
          return fill(list, h('p', { class: 'muted' }, m.noDevice));
        }
        const last = lastSyncOf(d);
        fill(summary, last ? h('span', { title: dateTime(last, school.timezone) }, m.deviceLastSync(d.name, ago(last))) : m.deviceNeverSynced(d.name),
          d.clock_skew_seconds !== null ? [' ', h('span', { class: 'muted' }, `${m.clockSkew}: `), skewCell(d)] : null);
        const sessions = await get<Page<Session>>(`/api/devices/${d.id}/sessions?limit=50`);
        fill(list, table(m.latestSessions, [m.received, m.channel, m.stateHeader, m.rowsReceived, m.accepted, m.duplicates, m.rejected, m.clockSkew, ''],
          sessions.items.map((s) => {
            const when = dateTime(s.received_at, school.timezone);
            const button = h('button', { type: 'button', class: 'secondary', disabled: s.rejection_count === 0, 'aria-label': m.rejectionsOfSession(when) }, m.rejections);
            button.addEventListener('click', () => void showRejections(s));
            return [when, s.channel, stateBadge(s),
              num(s.counts.received), num(s.counts.accepted), num(s.counts.duplicates), num(s.counts.rejected),
              h('span', { title: skewTitle(s.clock_skew_seconds) }, skew(s.clock_skew_seconds)), button];
          }), { empty: last ? m.noSessionKept : m.deviceNeverSynced(d.name) }));
      },
    };
  },
};

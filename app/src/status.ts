// The status bar, always in view: online or offline, how many records wait, when the last were
// sent, "Send now", the last error, and every record the server refused with its reason in
// plain words (translated by its code) and the server's own detail.
import { type ClientState, type Refusal, sendSoon, type SyncClient } from './device.js';
import { fill, h } from './dom.js';
import { longDate, m, when } from './i18n.js';

function asDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value as string | number);
  return Number.isNaN(d.getTime()) ? null : d;
}

function errorText(error: unknown): string | null {
  if (!error) return null;
  if (typeof error === 'string') return error;
  const e = error as { code?: string; message?: string };
  return (e.code && m.errors[e.code]) || e.message || e.code || String(error);
}

export function refusalText(r: Refusal): string {
  return m.refusal[r.code] ?? m.refusalOther(r.code);
}

/** Which check-in or mark it was, from the refused row and the roster: "Zed Zola, arriving 12:03". */
function refusedRow(r: Refusal, client: SyncClient): string | null {
  const row = r.row;
  if (!row?.user_id) return null;
  const name = client.roster().find((p) => String(p.userId) === row.user_id)?.name ?? `#${row.user_id}`;
  if (row.mark) return m.refusedMark(name, m.marks[row.mark as keyof typeof m.marks] ?? row.mark, row.date ? longDate(row.date) : '');
  const at = asDate(row.occurred_at);
  return m.refusedCheck(name, row.type ?? '', at ? when(at) : '');
}

export function mountStatus(el: HTMLElement, client: SyncClient): () => void {
  let browserOnline = navigator.onLine;
  let refusedOpen = false; // the list stays open across redraws once opened
  const render = (state: ClientState) => {
    const online = browserOnline && state.online !== false;
    const sent = asDate(state.lastSentAt);
    const error = online ? errorText(state.lastError) : null;
    const refused = state.refused ?? [];
    fill(el,
      h('div', { class: 'status-line' },
        h('span', { class: `pill ${online ? 'ok' : 'off'}`, 'data-online': String(online), 'data-syncing': String(state.syncing) }, state.syncing ? m.syncing : online ? m.online : m.offline),
        h('span', { class: 'waiting', 'data-waiting': String(state.waiting) }, m.waiting(state.waiting)),
        h('span', { class: 'last-sent' }, sent ? m.lastSent(when(sent)) : m.neverSent),
        h('button', { type: 'button', class: 'small', disabled: !online || state.syncing, onclick: () => sendSoon(client, true) }, m.syncNow)),
      error ? h('p', { class: 'error' }, m.lastError(error)) : null,
      refused.length ? h('details', { class: 'refused', open: refusedOpen, ontoggle: (e: Event) => { refusedOpen = (e.target as HTMLDetailsElement).open; } },
        h('summary', {}, m.refusedSummary(refused.length)),
        h('ul', {}, refused.map((r) => h('li', { 'data-code': r.code },
          h('strong', {}, refusalText(r)), ' — ', refusedRow(r, client) ?? '', refusedRow(r, client) ? ' · ' : '', m.refusedLine(r.file, r.line),
          r.detail ? h('br') : null, r.detail ? h('span', { class: 'detail' }, m.serverSaid(r.detail)) : null)))) : null);
  };
  const redraw = () => render(client.state);
  const onOnline = () => { browserOnline = true; redraw(); };
  const onOffline = () => { browserOnline = false; redraw(); };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  const unsubscribe = client.subscribe(render);
  redraw();
  return () => { unsubscribe(); window.removeEventListener('online', onOnline); window.removeEventListener('offline', onOffline); };
}

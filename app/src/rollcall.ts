// Roll call for a teacher: the pupils of the roster the server last sent (the SDK keeps it),
// every one present to begin with; a tap moves a pupil on to late, absent, excused (which asks
// the reason: docs/protocol/v4.md §7.4) and back to present. "Save" queues the marks on the
// `appel` channel (client.mark); after that, only the pupils whose mark changed are sent again
// (marks are append-only: the latest marked_at of this device wins on the server). What was
// saved for the day is remembered on the device, so the list reopens as it was left.
import { type RosterEntry, sendSoon, type SyncClient } from './device.js';
import { fill, h } from './dom.js';
import { localToday, longDate, m } from './i18n.js';

type Mark = 'present' | 'late' | 'absent' | 'excused';
type Reason = 'illness' | 'medical' | 'family' | 'authorised_activity' | 'other';
interface Entry { mark: Mark; reason?: Reason }
const NEXT: Record<Mark, Mark> = { present: 'late', late: 'absent', absent: 'excused', excused: 'present' };
const REASONS: Reason[] = ['illness', 'medical', 'family', 'authorised_activity', 'other'];

const savedKey = (device: string, date: string) => `attendance-app.rollcall.${device}.${date}`;

function loadSaved(device: string, date: string): Record<number, Entry> {
  try { return JSON.parse(localStorage.getItem(savedKey(device, date)) ?? '{}') as Record<number, Entry>; } catch { return {}; }
}

function storeSaved(device: string, date: string, saved: Record<number, Entry>): void {
  try { localStorage.setItem(savedKey(device, date), JSON.stringify(saved)); } catch { /* the list reopens all present */ }
}

const same = (a: Entry | undefined, b: Entry) => a !== undefined && a.mark === b.mark && (a.reason ?? null) === (b.reason ?? null);

/** Asks why the pupil is excused: one of the protocol's reasons, or null when cancelled. */
function askReason(name: string): Promise<Reason | null> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'reason', 'aria-labelledby': 'reason-title' });
    const close = (reason: Reason | null) => { dialog.close(); dialog.remove(); resolve(reason); };
    fill(dialog,
      h('h2', { id: 'reason-title' }, m.reasonTitle(name)),
      h('div', { class: 'reasons' }, REASONS.map((r) => h('button', { type: 'button', 'data-reason': r, onclick: () => close(r) }, m.reasons[r]))),
      h('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, m.cancel));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(null); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function showRollCall(root: HTMLElement, client: SyncClient, device: string): void {
  // The day on the device's clock corrected by the server's (the SDK measures the offset at each sync).
  const date = localToday(client.now());
  const pupils: RosterEntry[] = client.roster().filter((p) => p.active).sort((a, b) => a.name.localeCompare(b.name));
  if (pupils.length === 0) { fill(root, h('p', { class: 'note' }, m.noRoster)); return; }
  let saved = loadSaved(device, date);
  const current = new Map<number, Entry>(pupils.map((p) => [p.userId, saved[p.userId] ?? { mark: 'present' }]));
  const list = h('ul', { class: 'roll' });
  const counts = h('p', { class: 'counts', 'aria-live': 'polite' });
  const save = h('button', { type: 'button', class: 'primary' });
  const message = h('p', { class: 'message', role: 'status' });
  const search = h('input', { type: 'search', id: 'roll-filter', autocomplete: 'off' });

  const changed = () => pupils.filter((p) => !same(saved[p.userId], current.get(p.userId)!));
  const render = () => {
    const query = search.value.trim().toLocaleLowerCase();
    fill(list, ...pupils.filter((p) => !query || p.name.toLocaleLowerCase().includes(query)).map((p) => {
      const entry = current.get(p.userId)!;
      const label = entry.mark === 'excused' && entry.reason ? `${m.marks.excused} · ${m.reasons[entry.reason]}` : m.marks[entry.mark];
      return h('li', {},
        h('button', {
          type: 'button', class: `pupil mark-${entry.mark}`, 'data-user': p.userId, 'data-mark': entry.mark,
          onclick: async () => {
            const next = NEXT[entry.mark];
            if (next === 'excused') {
              const reason = await askReason(p.name);
              current.set(p.userId, reason ? { mark: 'excused', reason } : { mark: 'present' });
            } else {
              current.set(p.userId, { mark: next });
            }
            render();
          },
        }, h('span', { class: 'name' }, p.name), h('span', { class: 'mark' }, label)));
    }));
    const all = [...current.values()];
    const n = (mark: Mark) => all.filter((e) => e.mark === mark).length;
    counts.textContent = m.counts(n('present'), n('late'), n('absent'), n('excused'));
    const pending = changed().length;
    const first = Object.keys(saved).length === 0;
    save.textContent = first ? m.submitRollCall : m.submitChanges(pending);
    save.disabled = !first && pending === 0;
  };
  save.addEventListener('click', async () => {
    const toSend = changed();
    save.disabled = true;
    try {
      for (const p of toSend) {
        const entry = current.get(p.userId)!;
        await client.mark({ userId: p.userId, date, mark: entry.mark, ...(entry.reason && { reason: entry.reason }) });
        saved = { ...saved, [p.userId]: entry };
        storeSaved(device, date, saved);
      }
      message.textContent = m.rollCallSaved(toSend.length);
    } catch (err) {
      message.textContent = (err as Error).message;
    }
    render();
    sendSoon(client);
  });
  search.addEventListener('input', render);
  fill(root,
    h('h1', {}, m.rollCallTitle(longDate(date))),
    h('p', { class: 'hint' }, m.rollCallHint),
    h('label', { for: 'roll-filter', class: 'filter' }, m.filter), search,
    counts, list, h('div', { class: 'sticky-actions' }, save, message));
  if (Object.keys(saved).length > 0) message.textContent = m.rollCallUpToDate;
  render();
}

// Each pupil's status per bucket, searchable by name or badge (accents ignored), downloadable as CSV or XLSX; each name
// links to the pupil's page. Shows the first rows and more on demand: a school of 2,000 pupils
// stays quick to draw. A week or month verdict shows its counts ("4/5") and says them in words
// on hover and on focus; the verdicts are one tab stop, the arrow keys move between them (a
// table of 100 pupils by 12 weeks would otherwise be 1,200 stops). Closed days are shaded.
import { exportButtons } from '../export-buttons.js';
import { field, fill, h } from '../dom.js';
import { bucketLabel } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import { pupilLink } from '../pupil-link.js';
import { closedText, verdictMark } from '../verdicts.js';
import type { Figures } from '../types.js';
import type { ViewContext } from '../view.js';

const STEP = 100;

export interface UsersTable {
  element: HTMLElement;
  update(f: Figures): void;
}

/** Lower case without accents: "chloe" finds Chloé, as the api's search does. */
export function folded(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLocaleLowerCase();
}

/** `exportPath`: the api's file of every pupil's verdicts (format and lang added on click). */
export function usersTable(ctx: ViewContext, exportPath: () => string | null): UsersTable {
  let figures: Figures | null = null;
  let shown = STEP;
  const search = h('input', { type: 'search', placeholder: m.nameOrBadge, autocomplete: 'off' });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const keysHelp = h('p', { class: 'muted no-print' }, m.verdictKeys);
  const wrap = h('div', { class: 'table-wrap wide' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, '');
  const element = h('section', { class: 'users', 'aria-labelledby': 'users-title' },
    h('h3', { id: 'users-title' }, m.usersByPeriod),
    h('div', { class: 'controls no-print' }, field(m.searchPupils, search), exportButtons(exportPath, ctx.notify)),
    summary, keysHelp, wrap, more);

  const matching = () => {
    const users = figures?.users ?? [];
    const q = folded(search.value.trim());
    return q ? users.filter((u) => folded(u.name ?? '').includes(q) || folded(u.badge ?? '').includes(q)) : users;
  };

  function draw(): void {
    if (!figures) return;
    const f = figures;
    const users = matching();
    summary.textContent = m.usersSummary(users.length, f.users?.length ?? 0);
    const byDay = f.period === 'day';
    // A closed day's column: shaded, its reason in the header; a pupil who came that day still reads P.
    const closed = f.buckets.map((b) => (byDay && b.school_day === false ? closedText(b.skipped_days[0] ?? { reason: 'closure', label: '' }) : null));
    const head = h('tr', {}, h('th', { scope: 'col' }, m.name), h('th', { scope: 'col' }, m.badge),
      f.buckets.map((b, i) => h('th', { scope: 'col', class: closed[i] ? 'closed' : null, title: [closed[i], b.final ? m.final : m.mayStillChange].filter(Boolean).join(' · ') },
        h('time', { datetime: b.start }, bucketLabel(b.start, f.period)), b.final ? '' : '*')));
    let first = true;
    const rows = users.slice(0, shown).map((u) => h('tr', {},
      h('th', { scope: 'row' }, pupilLink(ctx, u.user_id, u.name)), h('td', {}, u.badge ?? ''),
      u.statuses.map((s, i) => {
        const cls = [s ?? 'none', closed[i] ? 'closed' : ''].filter(Boolean).join(' ');
        if (!s) return h('td', { class: cls, title: closed[i] ?? m.notCounted }, closed[i] ? '' : '–');
        const c = u.counts[i];
        const mark = verdictMark(s, byDay ? null : c, '', first ? 0 : -1);
        first = false;
        mark.append(m.mark[s], byDay || !c ? '' : h('span', { class: 'counts' }, ` ${num(c.days_present)}/${num(c.open_days)}`));
        return h('td', { class: cls }, mark);
      })));
    fill(wrap, h('table', {}, h('caption', {}, m.statusPer[f.period]), h('thead', {}, head),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: f.buckets.length + 2, class: 'empty' }, m.noPupilMatches)))));
    more.hidden = users.length <= shown;
    more.textContent = m.showMore(users.length - shown);
  }

  // Arrow keys move from verdict to verdict, in the row or the column (the roving tab stop follows).
  wrap.addEventListener('keydown', (e) => {
    const from = e.target as HTMLElement;
    const cell = from.closest('td');
    if (!from.classList.contains('verdict') || !cell) return;
    const row = cell.parentElement as HTMLTableRowElement;
    const step = (next: Element | null | undefined, move: (c: Element) => Element | null | undefined): Element | null => {
      for (let c = next; c; c = move(c)) if (c.querySelector('.verdict')) return c;
      return null;
    };
    const rowAt = (tr: Element | null) => tr?.children[cell.cellIndex] ?? null;
    const to = e.key === 'ArrowRight' ? step(cell.nextElementSibling, (c) => c.nextElementSibling)
      : e.key === 'ArrowLeft' ? step(cell.previousElementSibling, (c) => c.previousElementSibling)
        : e.key === 'ArrowDown' ? step(rowAt(row.nextElementSibling), (c) => rowAt(c.parentElement!.nextElementSibling))
          : e.key === 'ArrowUp' ? step(rowAt(row.previousElementSibling), (c) => rowAt(c.parentElement!.previousElementSibling)) : null;
    const target = to?.querySelector<HTMLElement>('.verdict');
    if (!target) return;
    e.preventDefault();
    from.tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  });
  search.addEventListener('input', () => { shown = STEP; draw(); });
  more.addEventListener('click', () => { shown += STEP * 5; draw(); });
  return { element, update(f) { figures = f; draw(); } };
}

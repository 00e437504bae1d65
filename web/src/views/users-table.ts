// Each pupil's status per bucket, searchable by name or badge, downloadable as CSV; each name
// links to the pupil's page. Shows the first rows and more on demand: a school of 2,000 pupils
// stays quick to draw.
import { download, slug, toCsv } from '../csv.js';
import { field, fill, h } from '../dom.js';
import { bucketLabel } from '../format.js';
import { m } from '../i18n.js';
import { pupilLink } from '../pupil-link.js';
import type { Figures } from '../types.js';
import type { ViewContext } from '../view.js';

const STEP = 100;

export interface UsersTable {
  element: HTMLElement;
  update(f: Figures): void;
}

export function usersTable(ctx: ViewContext): UsersTable {
  let figures: Figures | null = null;
  let shown = STEP;
  const search = h('input', { type: 'search', placeholder: m.nameOrBadge, autocomplete: 'off' });
  const csvButton = h('button', { type: 'button', class: 'secondary' }, m.downloadCsv);
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const wrap = h('div', { class: 'table-wrap wide' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, '');
  const element = h('section', { class: 'users', 'aria-labelledby': 'users-title' },
    h('h3', { id: 'users-title' }, m.usersByPeriod),
    h('div', { class: 'controls no-print' }, field(m.searchPupils, search), csvButton),
    summary, wrap, more);

  const matching = () => {
    const users = figures?.users ?? [];
    const q = search.value.trim().toLocaleLowerCase();
    return q ? users.filter((u) => (u.name ?? '').toLocaleLowerCase().includes(q) || (u.badge ?? '').toLocaleLowerCase().includes(q)) : users;
  };

  function draw(): void {
    if (!figures) return;
    const f = figures;
    const users = matching();
    summary.textContent = m.usersSummary(users.length, f.users?.length ?? 0);
    const head = h('tr', {}, h('th', { scope: 'col' }, m.name), h('th', { scope: 'col' }, m.badge),
      f.buckets.map((b) => h('th', { scope: 'col', title: b.final ? m.final : m.mayStillChange }, h('time', { datetime: b.start }, bucketLabel(b.start, f.period)), b.final ? '' : '*')));
    const rows = users.slice(0, shown).map((u) => h('tr', {},
      h('th', { scope: 'row' }, pupilLink(ctx, u.user_id, u.name)), h('td', {}, u.badge ?? ''),
      u.statuses.map((s) => h('td', { class: s ?? 'none' }, s ? m.mark[s] : '–'))));
    fill(wrap, h('table', {}, h('caption', {}, m.statusPer[f.period]), h('thead', {}, head),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: f.buckets.length + 2, class: 'empty' }, m.noPupilMatches)))));
    more.hidden = users.length <= shown;
    more.textContent = m.showMore(users.length - shown);
  }

  search.addEventListener('input', () => { shown = STEP; draw(); });
  more.addEventListener('click', () => { shown += STEP * 5; draw(); });
  csvButton.addEventListener('click', () => {
    if (!figures) return;
    const f = figures;
    const rows = [['user_id', 'name', 'badge', ...f.buckets.map((b) => b.start)], ...matching().map((u) => [u.user_id, u.name, u.badge, ...u.statuses.map((s) => s ?? '')])];
    download(`${slug(ctx.school.name)}-${f.period}-${f.from}-${f.to}.csv`, toCsv(rows));
  });

  return { element, update(f) { figures = f; draw(); } };
}

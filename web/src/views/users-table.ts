// Each user's status per bucket, searchable by name or badge, downloadable as CSV. Shows the
// first rows and more on demand: a school of 2,000 users stays quick to draw.
import { download, toCsv } from '../csv.js';
import { field, fill, h } from '../dom.js';
import { bucketLabel } from '../format.js';
import type { Figures } from '../types.js';

const STEP = 100;
const MARK = { present: 'P', absent: 'A' } as const;

export interface UsersTable {
  element: HTMLElement;
  update(f: Figures): void;
}

export function usersTable(schoolName: string): UsersTable {
  let figures: Figures | null = null;
  let shown = STEP;
  const search = h('input', { type: 'search', placeholder: 'Name or badge', autocomplete: 'off' });
  const csvButton = h('button', { type: 'button', class: 'secondary' }, 'Download CSV');
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const wrap = h('div', { class: 'table-wrap wide' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  const element = h('section', { class: 'users', 'aria-labelledby': 'users-title' },
    h('h3', { id: 'users-title' }, 'Users by period'),
    h('div', { class: 'controls' }, field('Search users', search), csvButton),
    summary, wrap, more);

  const matching = () => {
    const users = figures?.users ?? [];
    const q = search.value.trim().toLowerCase();
    return q ? users.filter((u) => (u.name ?? '').toLowerCase().includes(q) || (u.badge ?? '').toLowerCase().includes(q)) : users;
  };

  function draw(): void {
    if (!figures) return;
    const f = figures;
    const users = matching();
    summary.textContent = `${users.length} of ${f.users?.length ?? 0} users · P present, A absent, – not counted`;
    const head = h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Badge'),
      f.buckets.map((b) => h('th', { scope: 'col', title: b.final ? 'final' : 'may still change' }, bucketLabel(b.start, f.period), b.final ? '' : '*')));
    const rows = users.slice(0, shown).map((u) => h('tr', {},
      h('th', { scope: 'row' }, u.name ?? '—'), h('td', {}, u.badge ?? ''),
      u.statuses.map((s) => h('td', { class: s ?? 'none' }, s ? MARK[s] : '–'))));
    fill(wrap, h('table', {}, h('caption', {}, `Status of each user per ${f.period}`), h('thead', {}, head),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: f.buckets.length + 2, class: 'empty' }, 'No user matches.')))));
    more.hidden = users.length <= shown;
    more.textContent = `Show more (${users.length - shown} left)`;
  }

  search.addEventListener('input', () => { shown = STEP; draw(); });
  more.addEventListener('click', () => { shown += STEP * 5; draw(); });
  csvButton.addEventListener('click', () => {
    if (!figures) return;
    const f = figures;
    const rows = [['user_id', 'name', 'badge', ...f.buckets.map((b) => b.start)], ...matching().map((u) => [u.user_id, u.name, u.badge, ...u.statuses.map((s) => s ?? '')])];
    const slug = schoolName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'school';
    download(`${slug}-${f.period}-${f.from}-${f.to}.csv`, toCsv(rows));
  });

  return { element, update(f) { figures = f; draw(); } };
}

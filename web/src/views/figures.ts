// Present/absent by day, ISO week or month over a chosen range: a bar chart, the figures as a
// table (each marked final or waiting), which devices hold figures back, and every user's
// status per period. Revalidated with If-None-Match: unchanged figures are a 304.
import { getFresh } from '../api.js';
import { barChart } from '../chart.js';
import { field, fill, h, select, table, badge } from '../dom.js';
import { finalityNote } from '../finality.js';
import { addDays, bucketLabel } from '../format.js';
import { todayIn } from '../school-time.js';
import type { Figures, Period } from '../types.js';
import type { View } from '../view.js';
import { usersTable } from './users-table.js';

/** The default range of each period, ending today. */
const SPAN: Record<Period, number> = { day: 27, week: 7 * 12 - 1, month: 180 };

export const figuresView: View = {
  id: 'figures',
  title: 'Figures',
  mount(panel, ctx) {
    const { school } = ctx;
    const period = select([['day', 'By day'], ['week', 'By week'], ['month', 'By month']], 'day');
    const from = h('input', { type: 'date', required: true });
    const to = h('input', { type: 'date', required: true });
    const setRange = () => {
      const today = todayIn(school.timezone);
      to.value = today;
      from.value = addDays(today, -SPAN[period.value as Period]);
    };
    setRange();
    const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Bar chart of present and absent users per period' });
    const note = h('div');
    const numbers = h('div');
    const users = usersTable(school.name);
    panel.append(
      h('h2', { class: 'view-title' }, `Figures of ${school.name}`),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); ctx.refreshSoon(); }) as EventListener },
        field('Period', period), field('From', from), field('To', to), h('button', { type: 'submit' }, 'Show')),
      note, chartBox,
      h('details', { class: 'numbers' }, h('summary', {}, 'Figures as a table'), numbers),
      users.element);
    const chart = barChart(chartBox, 'Present and absent');
    period.addEventListener('change', () => { setRange(); ctx.refreshSoon(); });
    for (const input of [from, to]) input.addEventListener('change', () => { if (from.value && to.value) ctx.refreshSoon(); });

    let latest = 0;
    let drawn = '';
    return {
      async refresh() {
        const mine = ++latest; // a slower answer to an earlier choice must not overwrite a newer one
        if (!from.value || !to.value || from.value > to.value) throw new Error('Choose a start date on or before the end date.');
        const p = period.value as Period;
        const path = `/api/attendances/aggregate/school/${school.id}?period=${p}&from=${from.value}&to=${to.value}&include=users`;
        const { body: f, changed } = await getFresh<Figures>(path);
        // A 304 for what is on screen needs no redraw; a 304 for another choice (back to an earlier period) does.
        if (mine !== latest || (!changed && drawn === path)) return;
        drawn = path;
        chart.update(f.buckets, p);
        fill(note, finalityNote(f));
        fill(numbers, table(`Present and absent per ${p}`, ['Period', 'Present', 'Absent', 'Total', 'Status'],
          f.buckets.map((b) => [bucketLabel(b.start, p), b.present, b.absent, b.total, b.final ? badge('final', 'ok') : badge('waiting', 'warn')]), { className: 'buckets' }));
        users.update(f);
      },
      destroy() {
        chart.destroy();
      },
    };
  },
};

// Present/absent by day, ISO week or month over a chosen range: a bar chart, the figures as a
// table (each marked final or waiting, downloadable as CSV), which devices hold figures back,
// and every pupil's status per period. Closed days are shaded and say why; each row says the
// days it counted; the rule the figures applied is on the page. The period and range are in
// the URL. Revalidated with If-None-Match: unchanged figures are a 304.
import { getFresh } from '../api.js';
import { barChart } from '../chart.js';
import { dateRange } from '../date-range.js';
import { badge, field, fill, h, select, table, timeEl } from '../dom.js';
import { exportButtons } from '../export-buttons.js';
import { finalityNote } from '../finality.js';
import { bucketLabel, dayShort } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import type { Bucket, Figures, Period } from '../types.js';
import { closedText, closedWhy, ruleBox } from '../verdicts.js';
import type { View } from '../view.js';
import { usersTable } from './users-table.js';

/** The default range of each period, ending today. */
const SPAN: Record<Period, number> = { day: 27, week: 7 * 12 - 1, month: 180 };
const PERIODS: Period[] = ['day', 'week', 'month'];

export const figuresView: View = {
  id: 'figures',
  mount(panel, ctx) {
    const { school } = ctx;
    const asked = ctx.params.get('period') as Period | null;
    const period = select(PERIODS.map((p) => [p, m.byPeriod[p]]), asked && PERIODS.includes(asked) ? asked : 'day');
    const range = dateRange(ctx, SPAN[period.value as Period]);
    const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': m.chartLabel });
    const note = h('div');
    const rule = h('div');
    const closedLegend = h('p', { class: 'muted closed-legend', hidden: true }, m.closedLegend);
    const numbers = h('div');
    const users = usersTable(ctx, () => (shown ? `/api/attendances/aggregate/school/${school.id}?period=${shown.period}&from=${shown.from}&to=${shown.to}&table=users` : null));
    const commit = () => {
      ctx.setParams({ period: period.value });
      range.commit(m.byPeriod[period.value as Period]);
    };
    commit();
    panel.append(
      h('h2', { class: 'view-title' }, m.figuresOf(school.name)),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); commit(); ctx.refreshSoon(); }) as EventListener },
        field(m.period, period), field(m.from, range.from), field(m.to, range.to), h('button', { type: 'submit' }, m.show)),
      range.summary,
      note, chartBox, closedLegend,
      // Open on paper: the print stylesheet shows the table, and a closed <details> prints nothing.
      h('details', { class: 'numbers' }, h('summary', {}, m.figuresAsTable), h('div', { class: 'controls no-print' }, exportButtons(() => (shown ? `${figuresPath(shown)}&table=buckets` : null), ctx.notify)), numbers),
      users.element, rule);
    const chart = barChart(chartBox, m.chartTitle);
    period.addEventListener('change', () => { range.reset(SPAN[period.value as Period]); commit(); ctx.refreshSoon(); });
    for (const input of [range.from, range.to]) input.addEventListener('change', () => { commit(); if (range.valid()) ctx.refreshSoon(); });

    let latest = 0;
    let drawn = '';
    let shown: Figures | null = null;
    const figuresPath = (f: Figures) => `/api/attendances/aggregate/school/${school.id}?period=${f.period}&from=${f.from}&to=${f.to}`;
    return {
      async refresh() {
        const mine = ++latest; // a slower answer to an earlier choice must not overwrite a newer one
        if (!range.valid()) throw new Error(m.rangeError);
        const p = period.value as Period;
        const path = `/api/attendances/aggregate/school/${school.id}?period=${p}&from=${range.from.value}&to=${range.to.value}&include=users`;
        const { body: f, changed } = await getFresh<Figures>(path);
        // A 304 for what is on screen needs no redraw; a 304 for another choice (back to an earlier period) does.
        if (mine !== latest || (!changed && drawn === path)) return;
        drawn = path;
        shown = f;
        const closed = f.buckets.map((b) => p === 'day' && b.school_day === false);
        chart.update(f.buckets, p, closed);
        closedLegend.hidden = !closed.includes(true);
        fill(note, finalityNote(f));
        fill(rule, ruleBox(f.rule));
        // The rate first (what staff read), the verdict counts beside it.
        const numbersTable = table(m.perPeriod[p], [m.period, m.attendanceRate, m.present, m.absent, m.total, m.lateToday, m.excusedToday, m.status, m.countedDays],
          f.buckets.map((b) => [timeEl(b.start, bucketLabel(b.start, p)), b.no_data ? m.verdictWord.no_data : m.rateOf(b.rate), num(b.present), num(b.absent), num(b.total),
            num(p === 'day' ? b.late : b.late_days), num(p === 'day' ? b.excused : b.excused_days),
            b.final ? badge(m.final, 'ok') : badge(m.waiting, 'warn'), countedCell(b, p)]), { className: 'buckets' });
        numbersTable.querySelectorAll('tbody tr').forEach((tr, i) => { if (closed[i]) tr.classList.add('closed'); });
        fill(numbers, numbersTable);
        users.update(f);
      },
      destroy() {
        chart.destroy();
      },
    };
  },
};

/** The days a bucket counted: a day says open or closed and why; a week or month, how many open days and which closed. */
function countedCell(b: Bucket, p: Period): Array<Node | string> {
  const closed = b.skipped_days.filter((d) => d.reason !== 'not_begun');
  if (p === 'day') return closed.length ? [closedText(closed[0])] : b.open_days ? [m.openDay] : ['—'];
  const why = [...new Set(closed.map((d) => closedWhy(d)))];
  const days = closed.filter((d) => d.reason !== 'not_a_school_day').map((d) => dayShort(d.date));
  return [num(b.open_days), ...(closed.length ? [h('br'), h('span', { class: 'muted' },
    m.closedDaysOf(closed.length, why.join(', ')), days.length ? ` — ${days.join(', ')}` : '')] : [])];
}

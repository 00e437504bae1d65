// The From/To pair of every view with a range. Native date inputs, labelled: they give every
// browser's keyboard and screen-reader support and a calendar on phones, and their value is
// always YYYY-MM-DD whatever the display; but they draw the date in the browser's own format,
// which may not be the page's language. So the range is also written out beside them in the
// page's format and the school's zone ("1–7 Dec 2026, school time (Europe/Paris)"), tied to
// both inputs by aria-describedby. The range lives in the URL (from, to), shared by the views.
import { h, uid } from './dom.js';
import { addDays, dayRange } from './format.js';
import { m } from './i18n.js';
import { todayIn } from './school-time.js';
import type { ViewContext } from './view.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export interface DateRange {
  from: HTMLInputElement;
  to: HTMLInputElement;
  /** Written-out range, placed by the view under its controls. */
  summary: HTMLElement;
  valid(): boolean;
  /** Back to the default span ending today (the figures view, when the period changes). */
  reset(spanDays: number): void;
  /** After a change: the URL, the summary and the printed period follow. */
  commit(prefix?: string): void;
}

export function dateRange(ctx: ViewContext, spanDays: number): DateRange {
  const zone = ctx.school.timezone;
  const summaryId = uid('range');
  const from = h('input', { type: 'date', required: true, 'aria-describedby': summaryId });
  const to = h('input', { type: 'date', required: true, 'aria-describedby': summaryId });
  const summary = h('p', { class: 'range-summary muted', id: summaryId });
  const given = (key: string) => { const v = ctx.params.get(key); return v && DAY.test(v) ? v : null; };
  const today = todayIn(zone);
  to.value = given('to') ?? today;
  from.value = given('from') ?? addDays(to.value, -spanDays);
  const valid = () => DAY.test(from.value) && DAY.test(to.value) && from.value <= to.value;
  let prefix = '';
  const write = () => {
    summary.textContent = valid() ? m.rangeSummary(dayRange(from.value, to.value), zone) : m.rangeError;
    ctx.setPrintPeriod(valid() ? (prefix ? m.printPeriod(prefix, dayRange(from.value, to.value)) : dayRange(from.value, to.value)) : '');
  };
  write();
  return {
    from, to, summary, valid,
    reset(span) {
      to.value = todayIn(zone);
      from.value = addDays(to.value, -span);
    },
    commit(p = prefix) {
      prefix = p;
      write();
      if (valid()) ctx.setParams({ from: from.value, to: to.value });
    },
  };
}

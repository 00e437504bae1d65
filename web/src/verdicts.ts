// Closed days, verdicts with the counts behind them, and the rule in force, written one way on
// Today, Figures and the pupil page. Every figure here is the API's (figures, history, absent):
// nothing is recounted in the browser.
import { h, uid } from './dom.js';
import { duration } from './format.js';
import { m } from './i18n.js';
import { num } from './intl.js';
import type { Rule } from './types.js';

/** Reasons whose label is the school's own words ("Vacances de Noël"); the others' labels are the server's English. */
const OWN_LABEL = new Set(['holiday', 'public_holiday', 'closure']);

/** Why a day is closed, short: "holiday (Vacances de Noël)", "not a school day". */
export function closedWhy(closed: { reason: string; label: string }): string {
  const kind = m.closedKind[closed.reason] ?? closed.reason;
  return OWN_LABEL.has(closed.reason) ? `${kind} (${closed.label})` : kind;
}

/** "Closed: holiday (Vacances de Noël)". */
export function closedText(closed: { reason: string; label: string }): string {
  return m.closedDay(m.closedKind[closed.reason] ?? closed.reason, OWN_LABEL.has(closed.reason) ? closed.label : null);
}

/** "present: 3 of 4 open days". */
export function verdictSentence(status: 'present' | 'absent' | 'excused' | 'no_data', counts: { open_days: number; days_present: number } | null): string {
  const word = m.verdictWord[status];
  return counts ? m.verdictTip(word, m.verdictCounts(counts.days_present, counts.open_days)) : word;
}

/**
 * A verdict that says its counts on hover (title) and on keyboard focus (the same words drawn
 * by CSS from data-tip, .tip:focus-visible): `text` is what the cell shows.
 */
export function verdictMark(status: 'present' | 'absent' | 'excused', counts: { open_days: number; days_present: number } | null, text: string, tabIndex: 0 | -1): HTMLElement {
  const sentence = verdictSentence(status, counts);
  return h('span', { class: `verdict tip ${status}`, tabindex: tabIndex, title: sentence, 'data-tip': sentence }, text);
}

/** The rule the figures applied (their `rule`), in the page's language, with its numbers. */
export function ruleBox(rule: Rule): HTMLElement {
  const id = uid('rule');
  return h('section', { class: 'rule', 'aria-labelledby': id },
    h('h3', { id }, m.ruleTitle),
    h('ul', {},
      h('li', {}, m.ruleDay(duration(rule.present_day_seconds))),
      h('li', {}, m.rulePeriod(num(rule.period_threshold_percent / 100, { style: 'percent' }))),
      h('li', {}, m.ruleClosed)));
}

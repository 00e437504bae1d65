// Today at a glance: present, absent, checked in right now, fever alerts today, whether
// today's figure is final, who is in, and who is absent or not yet arrived (or why the school
// is closed today). Every name links to the pupil's page.
import { get, getFresh } from '../api.js';
import { badge, fill, h, table } from '../dom.js';
import { finalityNote } from '../finality.js';
import { day, duration, temperature, time, wallTime } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import { pupilLink } from '../pupil-link.js';
import { todayIn, todayStart } from '../school-time.js';
import type { AbsentToday, FeverAlert, Figures, Page, PresenceNow } from '../types.js';
import { closedWhy } from '../verdicts.js';
import type { View, ViewContext } from '../view.js';

/** Rows drawn at first: at 8 a.m. a school of 2,000 has 2,000 not yet arrived. */
const ABSENT_STEP = 50;

function card(label: string, value: number | string, id: string, tone = ''): HTMLElement {
  return h('section', { class: `card ${tone}`, 'aria-labelledby': `${id}-label` },
    h('h2', { id: `${id}-label` }, label), h('p', { class: 'figure', 'data-figure': id }, typeof value === 'number' ? num(value) : value));
}

export const overviewView: View = {
  id: 'overview',
  mount(panel, ctx) {
    const { school } = ctx;
    const cards = h('div', { class: 'cards' });
    const note = h('div');
    const lists = h('div', { class: 'grid-2' });
    const absent = absentList(ctx);
    panel.append(h('h2', { class: 'view-title' }, m.todayAt(school.name)), cards, note, lists, absent.element);
    return {
      async refresh() {
        const today = todayIn(school.timezone);
        ctx.setPrintPeriod(day(today));
        const [figures, now, alerts, away] = await Promise.all([
          getFresh<Figures>(`/api/attendances/aggregate/school/${school.id}?period=day&from=${today}&to=${today}`),
          get<PresenceNow>(`/api/schools/${school.id}/presence/now`),
          get<Page<FeverAlert>>(`/api/alerts?school_id=${school.id}&from=${encodeURIComponent(todayStart(school.timezone).toISOString())}&limit=100`),
          get<AbsentToday>(`/api/schools/${school.id}/presence/absent`),
        ]);
        const bucket = figures.body.buckets[0];
        const feverCount = alerts.next_cursor ? `${num(alerts.items.length)}+` : alerts.items.length;
        // Absent, not yet arrived and late are Today's own counts (past late_after, or a mark), not the day bucket's.
        const counts = away.open ? away.counts : null;
        fill(cards,
          card(m.attendanceRate, m.rateOf(bucket?.rate ?? null), 'rate', 'good'),
          card(m.present, bucket?.present ?? 0, 'present', 'good'),
          card(m.absent, counts?.absent ?? 0, 'absent'),
          card(m.notYetArrived, counts?.not_yet_arrived ?? 0, 'not-yet'),
          card(m.lateToday, counts?.late ?? 0, 'late', counts?.late ? 'warn' : ''),
          card(m.excusedToday, counts?.excused ?? 0, 'excused'),
          card(m.checkedInNow, now.count, 'now'),
          card(m.feverToday, feverCount, 'fever', alerts.items.length > 0 ? 'bad' : ''));
        // A closed day waits for nobody: "may still change: waiting for 2 devices" above "closed today" said otherwise.
        fill(note, away.closed ? h('p', { class: 'closed-note' }, m.closedToday(closedWhy(away.closed)))
          : figures.body.buckets.length > 0 ? finalityNote(figures.body) : null);
        fill(lists,
          table(m.checkedInCaption(now.count), [m.name, m.badge, m.since],
            now.items.slice(0, 50).map((u) => [pupilLink(ctx, u.user_id, u.name), u.badge, time(u.since, school.timezone)]), { empty: m.nobodyIn }),
          table(m.feverToday, [m.time, m.name, m.temperature],
            alerts.items.slice(0, 20).map((a) => [time(a.occurred_at, school.timezone), pupilLink(ctx, a.user_id, a.user_name), temperature(a.temperature)]), { empty: m.noFeverToday }));
        absent.update(away, figures.body.rule.present_day_seconds);
      },
    };
  },
};

/** Who is absent or not yet arrived today, by name (GET /api/schools/:id/presence/absent); nothing on a closed day. */
function absentList(ctx: ViewContext): { element: HTMLElement; update(a: AbsentToday, presentSeconds: number): void } {
  const tz = ctx.school.timezone;
  let shown = ABSENT_STEP;
  let last: AbsentToday | null = null;
  let seconds = 0;
  const help = h('p', { class: 'muted' });
  const box = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true });
  const element = h('section', { class: 'absent-today' }, box, help, more);
  const draw = () => {
    const a = last;
    if (!a) return;
    element.hidden = !a.open;
    if (!a.open) return;
    fill(help, m.absentHelp(wallTime(a.day_end), duration(seconds)));
    fill(box, table(m.absentCaption(a.counts.absent, a.counts.not_yet_arrived), [m.name, m.badge, m.status, m.firstCheckin, m.timeIn],
      a.items.slice(0, shown).map((u) => [
        pupilLink(ctx, u.user_id, u.name), u.badge,
        badge(m.absentStatus[u.status] + (u.reason ? ` (${m.markReason[u.reason] ?? u.reason})` : ''), u.status === 'absent' ? 'bad' : u.status === 'excused' ? 'ok' : 'warn'),
        u.first_checkin_at ? time(u.first_checkin_at, tz) : '—',
        u.seconds ? duration(u.seconds) : '—',
      ]), { empty: m.everyonePresent, className: 'absent' }));
    more.hidden = a.items.length <= shown;
    more.textContent = m.showMore(a.items.length - shown);
  };
  more.addEventListener('click', () => { shown += ABSENT_STEP * 4; draw(); });
  return { element, update(a, presentSeconds) { last = a; seconds = presentSeconds; draw(); } };
}

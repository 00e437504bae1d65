// Today at a glance: present, absent, checked in right now, fever alerts today, whether
// today's figure is final, and who is in. Every name links to the pupil's page.
import { get, getFresh } from '../api.js';
import { fill, h, table } from '../dom.js';
import { finalityNote } from '../finality.js';
import { day, temperature, time } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import { pupilLink } from '../pupil-link.js';
import { todayIn, todayStart } from '../school-time.js';
import type { FeverAlert, Figures, Page, PresenceNow } from '../types.js';
import type { View } from '../view.js';

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
    panel.append(h('h2', { class: 'view-title' }, m.todayAt(school.name)), cards, note, lists);
    return {
      async refresh() {
        const today = todayIn(school.timezone);
        ctx.setPrintPeriod(day(today));
        const [figures, now, alerts] = await Promise.all([
          getFresh<Figures>(`/api/attendances/aggregate/school/${school.id}?period=day&from=${today}&to=${today}`),
          get<PresenceNow>(`/api/schools/${school.id}/presence/now`),
          get<Page<FeverAlert>>(`/api/alerts?school_id=${school.id}&from=${encodeURIComponent(todayStart(school.timezone).toISOString())}&limit=100`),
        ]);
        const bucket = figures.body.buckets[0];
        const feverCount = alerts.next_cursor ? `${num(alerts.items.length)}+` : alerts.items.length;
        fill(cards,
          card(m.present, bucket?.present ?? 0, 'present', 'good'),
          card(m.absent, bucket?.absent ?? 0, 'absent'),
          card(m.checkedInNow, now.count, 'now'),
          card(m.feverToday, feverCount, 'fever', alerts.items.length > 0 ? 'bad' : ''));
        fill(note, figures.body.buckets.length > 0 ? finalityNote(figures.body) : null,
          bucket && bucket.school_day === false ? h('p', { class: 'muted' }, m.notSchoolDay) : null);
        fill(lists,
          table(m.checkedInCaption(now.count), [m.name, m.badge, m.since],
            now.items.slice(0, 50).map((u) => [pupilLink(ctx, u.user_id, u.name), u.badge, time(u.since, school.timezone)]), { empty: m.nobodyIn }),
          table(m.feverToday, [m.time, m.name, m.temperature],
            alerts.items.slice(0, 20).map((a) => [time(a.occurred_at, school.timezone), pupilLink(ctx, a.user_id, a.user_name), temperature(a.temperature)]), { empty: m.noFeverToday }));
      },
    };
  },
};

// Today at a glance: present, absent, checked in right now, fever alerts today, whether
// today's figure is final, and who is in.
import { get, getFresh } from '../api.js';
import { fill, h, table } from '../dom.js';
import { finalityNote } from '../finality.js';
import { time } from '../format.js';
import { todayIn, todayStart } from '../school-time.js';
import type { FeverAlert, Figures, Page, PresenceNow } from '../types.js';
import type { View } from '../view.js';

function card(label: string, value: number | string, id: string, tone = ''): HTMLElement {
  return h('section', { class: `card ${tone}`, 'aria-labelledby': `${id}-label` },
    h('h2', { id: `${id}-label` }, label), h('p', { class: 'figure', 'data-figure': id }, value));
}

export const overviewView: View = {
  id: 'overview',
  title: 'Today',
  mount(panel, ctx) {
    const { school } = ctx;
    const cards = h('div', { class: 'cards' });
    const note = h('div');
    const lists = h('div', { class: 'grid-2' });
    panel.append(h('h2', { class: 'view-title' }, `Today at ${school.name}`), cards, note, lists);
    return {
      async refresh() {
        const today = todayIn(school.timezone);
        const [figures, now, alerts] = await Promise.all([
          getFresh<Figures>(`/api/attendances/aggregate/school/${school.id}?period=day&from=${today}&to=${today}`),
          get<PresenceNow>(`/api/schools/${school.id}/presence/now`),
          get<Page<FeverAlert>>(`/api/alerts?school_id=${school.id}&from=${encodeURIComponent(todayStart(school.timezone).toISOString())}&limit=100`),
        ]);
        const bucket = figures.body.buckets[0];
        const feverCount = alerts.next_cursor ? `${alerts.items.length}+` : alerts.items.length;
        fill(cards,
          card('Present', bucket?.present ?? 0, 'present', 'good'),
          card('Absent', bucket?.absent ?? 0, 'absent'),
          card('Checked in now', now.count, 'now'),
          card('Fever alerts today', feverCount, 'fever', alerts.items.length > 0 ? 'bad' : ''));
        fill(note, figures.body.buckets.length > 0 ? finalityNote(figures.body) : null,
          bucket && bucket.school_day === false ? h('p', { class: 'muted' }, 'Today is not a school day.') : null);
        fill(lists,
          table(`Checked in now (${now.count})`, ['Name', 'Badge', 'Since'],
            now.items.slice(0, 50).map((u) => [u.name, u.badge, time(u.since, school.timezone)]), { empty: 'Nobody is checked in.' }),
          table('Fever alerts today', ['Time', 'Name', 'Temperature'],
            alerts.items.slice(0, 20).map((a) => [time(a.occurred_at, school.timezone), a.user_name ?? '—', `${a.temperature.toFixed(1)} °C`]), { empty: 'No fever alert today.' }));
      },
    };
  },
};

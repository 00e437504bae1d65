// One user's check-ins and check-outs over a date range, newest first: time, type,
// temperature, device, and the photo the device took, when it sent one. A photo needs the
// Bearer token, which an <img src> cannot carry: it is fetched by the API client and shown
// from an object URL, kept while the view is open (an attendance never changes picture)
// and revoked when the row leaves the list or the view is left.
import { getAll, getImage } from '../api.js';
import { badge, field, fill, h, select, table } from '../dom.js';
import { addDays, dateTime, startOfDay } from '../format.js';
import { todayIn } from '../school-time.js';
import type { Attendance, Device, User } from '../types.js';
import type { View } from '../view.js';

/** Photos fetched at once: a user's month of check-ins should not queue 60 requests ahead of the next refresh. */
const PHOTO_FETCHES = 4;

export const attendancesView: View = {
  id: 'attendances',
  title: 'Attendances',
  mount(panel, ctx) {
    const { school } = ctx;
    const today = todayIn(school.timezone);
    const user = select([['', 'Choose a user']]);
    const from = h('input', { type: 'date', value: addDays(today, -6) });
    const to = h('input', { type: 'date', value: today });
    const list = h('div');
    let users: User[] | null = null;
    let deviceNames = new Map<string, string>();
    let destroyed = false;
    panel.append(
      h('h2', { class: 'view-title' }, `Attendances at ${school.name}`),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); ctx.refreshSoon(); }) as EventListener },
        field('User', user), field('From', from), field('To', to), h('button', { type: 'submit' }, 'Show')),
      list);
    user.addEventListener('change', () => ctx.refreshSoon());

    // attendance id → its object URL (null: none held yet, asked again on the next refresh).
    const photos = new Map<number, Promise<string | null>>();
    let running = 0;
    const waiting: Array<() => void> = [];
    async function loadPhoto(id: number): Promise<string | null> {
      if (running >= PHOTO_FETCHES) await new Promise<void>((go) => waiting.push(go));
      running++;
      try {
        const blob = await getImage(`/api/attendances/${id}/photo`);
        if (!blob) return null;
        const url = URL.createObjectURL(blob);
        if (destroyed) { URL.revokeObjectURL(url); return null; }
        return url;
      } finally {
        running--;
        waiting.shift()?.();
      }
    }

    function photoCell(a: Attendance, when: string): HTMLElement | string {
      if (!a.photo) return '';
      const slot = h('span', { class: 'photo-slot muted' }, '…');
      let url = photos.get(a.id);
      if (!url) {
        url = loadPhoto(a.id);
        photos.set(a.id, url);
      }
      url.then((src) => {
        if (!src) {
          photos.delete(a.id);
          fill(slot, h('span', { title: `${a.photo} has not been received from the device yet` }, 'not received yet'));
        } else {
          fill(slot, h('img', { class: 'photo-thumb', src, alt: `Photo taken at ${when}`, title: a.photo! }));
        }
      }, () => {
        photos.delete(a.id);
        fill(slot, 'unavailable');
      });
      return slot;
    }

    function forget(keep: Set<number>): void {
      for (const [id, url] of photos) {
        if (keep.has(id)) continue;
        photos.delete(id);
        void url.then((src) => src && URL.revokeObjectURL(src));
      }
    }

    return {
      async refresh() {
        if (!from.value || !to.value || from.value > to.value) throw new Error('Choose a start date on or before the end date.');
        if (!users) {
          const [all, devices] = await Promise.all([getAll<User>(`/api/users?school_id=${school.id}`), getAll<Device>(`/api/devices?school_id=${school.id}`)]);
          users = all.sort((a, b) => a.name.localeCompare(b.name));
          deviceNames = new Map(devices.map((d) => [d.id, d.name]));
          const chosen = user.value;
          fill(user, h('option', { value: '' }, 'Choose a user'), users.map((u) => h('option', { value: String(u.id) }, `${u.name} (${u.badge})`)));
          user.value = chosen;
        }
        const who = users.find((u) => String(u.id) === user.value);
        if (!who) {
          forget(new Set());
          return fill(list, h('p', { class: 'muted' }, 'Choose a user to see their check-ins and check-outs.'));
        }
        const range = `from=${encodeURIComponent(startOfDay(from.value, school.timezone).toISOString())}`
          + `&to=${encodeURIComponent(startOfDay(addDays(to.value, 1), school.timezone).toISOString())}`;
        // The API lists oldest first; a person wants the latest on top.
        const rows = (await getAll<Attendance>(`/api/attendances?school_id=${school.id}&user_id=${who.id}&${range}`)).reverse();
        forget(new Set(rows.filter((a) => a.photo).map((a) => a.id)));
        fill(list, table(`Attendances of ${who.name} (${rows.length})`, ['Time', 'Type', 'Temperature', 'Device', 'Photo'],
          rows.map((a) => {
            const when = dateTime(a.occurred_at, school.timezone);
            return [
              [when, a.clock_suspect ? ' ' : null, a.clock_suspect ? badge('clock suspect', 'warn') : null],
              a.type === 'checkin' ? 'check-in' : 'check-out',
              a.temperature === null ? '—' : a.temperature >= school.fever_threshold ? badge(`${a.temperature.toFixed(1)} °C`, 'bad') : `${a.temperature.toFixed(1)} °C`,
              a.device_id ? deviceNames.get(a.device_id) ?? a.device_id : 'entered by staff',
              photoCell(a, when),
            ];
          }), { empty: 'No check-in or check-out in this range.' }));
      },
      destroy() {
        destroyed = true;
        forget(new Set());
      },
    };
  },
};

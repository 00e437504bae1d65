// One pupil over a date range: who they are, their days (first check-in, last check-out, time
// in, what looks wrong), every check-in and check-out newest first with the photo the device
// took, and their fever alerts; the attendances download as CSV. The pupil is found with a
// search-as-you-type picker, or arrives from a link (#pupils?user=12, from Today, Figures and
// the alerts); the pupil and the range are in the URL.
//
// Sections are drawn one by one from `sections` below: the per-period verdicts the calendar
// work adds are one more entry there.
//
// A photo needs the Bearer token, which an <img src> cannot carry: it is fetched by the API
// client and shown from an object URL, kept while the view is open (an attendance never
// changes picture) and revoked when the row leaves the list or the view is left.
import { get, getAll, getImage } from '../api.js';
import { download, slug, toCsv } from '../csv.js';
import { dateRange } from '../date-range.js';
import { badge, field, fill, h, table, timeEl } from '../dom.js';
import { addDays, dateTime, day, dayShort, duration, startOfDay, temperature, time } from '../format.js';
import { m } from '../i18n.js';
import { pupilDays } from '../pupil-days.js';
import { pupilPicker } from '../pupil-picker.js';
import { todayIn } from '../school-time.js';
import type { Attendance, Device, FeverAlert, User } from '../types.js';
import type { View } from '../view.js';

/** Photos fetched at once: a pupil's month of check-ins should not queue 60 requests ahead of the next refresh. */
const PHOTO_FETCHES = 4;

export const pupilsView: View = {
  id: 'pupils',
  mount(panel, ctx) {
    const { school } = ctx;
    const tz = school.timezone;
    const range = dateRange(ctx, 6);
    let userId = Number(ctx.params.get('user')) || null;
    let user: User | null = null;
    const picker = pupilPicker(school.id, (u) => {
      userId = u.id;
      user = u;
      ctx.setParams({ user: String(u.id) });
      ctx.refreshSoon();
    });
    const csvButton = h('button', { type: 'button', class: 'secondary', hidden: true }, m.downloadCsv);
    const heading = h('div', { class: 'pupil-head' });
    const body = h('div');
    let deviceNames: Map<string, string> | null = null;
    let rows: Attendance[] = [];
    let destroyed = false;
    range.commit();
    panel.append(
      h('h2', { class: 'view-title' }, m.pupilsAt(school.name)),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); range.commit(); ctx.refreshSoon(); }) as EventListener },
        picker.element, field(m.from, range.from), field(m.to, range.to), h('button', { type: 'submit' }, m.show), csvButton),
      range.summary, heading, body);

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
          fill(slot, h('span', { title: m.photoNotReceived(a.photo!) }, m.notReceivedYet));
        } else {
          fill(slot, h('img', { class: 'photo-thumb', src, alt: m.photoTakenAt(when), title: a.photo! }));
        }
      }, () => {
        photos.delete(a.id);
        fill(slot, m.unavailable);
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

    const deviceOf = (a: { device_id: string | null }) => (a.device_id ? deviceNames?.get(a.device_id) ?? a.device_id : m.enteredByStaff);

    /** The pupil's page, section by section: each gets the pupil, their attendances (oldest first) and alerts. */
    const sections: Array<(u: User, list: Attendance[], alerts: FeverAlert[]) => HTMLElement> = [
      (u, list) => {
        const days = pupilDays(list, tz, school.fever_threshold, todayIn(tz));
        return h('section', { class: 'pupil-days' }, table(m.daysOf(u.name), [m.dayHeader, m.firstCheckin, m.lastCheckout, m.timeIn, m.notes],
          days.map((d) => [
            timeEl(d.day, dayShort(d.day)), d.firstIn ? time(d.firstIn, tz) : '—', d.lastOut ? time(d.lastOut, tz) : '—', d.secondsIn ? duration(d.secondsIn) : '—',
            [d.openCheckin ? badge(m.noCheckout, 'warn') : null, d.strayCheckout ? badge(m.checkoutWithoutCheckin, 'warn') : null,
              d.clockSuspect ? badge(m.clockSuspect, 'warn') : null, d.fever ? badge(m.fever, 'bad') : null],
          ]), { empty: m.noAttendance }), h('p', { class: 'muted' }, m.daysNote));
      },
      (u, list) => {
        const newest = [...list].reverse(); // a person wants the latest on top
        forget(new Set(newest.filter((a) => a.photo).map((a) => a.id)));
        return table(m.attendancesOf(u.name, newest.length), [m.time, m.typeHeader, m.temperature, m.device, m.photo],
          newest.map((a) => {
            const when = dateTime(a.occurred_at, tz);
            return [
              [when, a.clock_suspect ? ' ' : null, a.clock_suspect ? badge(m.clockSuspect, 'warn') : null],
              a.type === 'checkin' ? m.checkin : m.checkout,
              a.temperature === null ? '—' : a.temperature >= school.fever_threshold ? badge(temperature(a.temperature), 'bad') : temperature(a.temperature),
              deviceOf(a),
              photoCell(a, when),
            ];
          }), { empty: m.noAttendance, className: 'attendances' });
      },
      (u, _list, alerts) => table(m.alertsOf(u.name, alerts.length), [m.time, m.temperature, m.device],
        alerts.map((a) => [dateTime(a.occurred_at, tz), temperature(a.temperature), deviceOf(a)]), { empty: m.noAlertOfPupil }),
    ];

    csvButton.addEventListener('click', () => {
      if (!user) return;
      download(`${slug(school.name)}-${slug(user.name)}-attendances-${range.from.value}-${range.to.value}.csv`, toCsv([
        ['occurred_at', 'type', 'temperature_c', 'device', 'photo', 'clock_suspect'],
        ...rows.map((a) => [a.occurred_at, a.type, a.temperature, a.device_id ? deviceOf(a) : '', a.photo, String(a.clock_suspect)]),
      ]));
    });

    return {
      async refresh() {
        if (!range.valid()) throw new Error(m.rangeError);
        if (!userId) {
          forget(new Set());
          csvButton.hidden = true;
          fill(heading);
          return fill(body, h('p', { class: 'muted' }, m.choosePupil));
        }
        if (user?.id !== userId) {
          user = await get<User>(`/api/users/${userId}`);
          picker.show(user);
        }
        deviceNames ??= new Map((await getAll<Device>(`/api/devices?school_id=${school.id}`)).map((d) => [d.id, d.name]));
        const from = startOfDay(range.from.value, tz).toISOString();
        const to = startOfDay(addDays(range.to.value, 1), tz).toISOString();
        const [list, schoolAlerts] = await Promise.all([
          getAll<Attendance>(`/api/attendances?school_id=${school.id}&user_id=${userId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
          // The alerts API has no pupil filter: the school's alerts of the range, this pupil's kept.
          getAll<FeverAlert>(`/api/alerts?school_id=${school.id}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
        ]);
        const u = user!;
        rows = list;
        csvButton.hidden = false;
        fill(heading, h('h3', { class: 'pupil-name' }, u.name), h('p', { class: 'muted' }, `${m.badge}: ${u.badge} · ${m.enrolledOn(day(u.enrolled_on))}`));
        fill(body, sections.map((draw) => draw(u, list, schoolAlerts.filter((a) => a.user_id === u.id))));
      },
      destroy() {
        destroyed = true;
        forget(new Set());
      },
    };
  },
};

// One pupil over a date range: who they are, their verdict per week or month with the counts
// behind it, their days (open or closed and why, present or absent, first check-in, last
// check-out, time in, anomalies), every check-in and check-out newest first with the photo the
// device took, and their fever alerts; the attendances download as CSV or XLSX. Verdicts, days, time
// in and anomalies are the API's (GET /api/users/:id/history, the figures' own rules): the
// page recounts nothing. The pupil is found with a search-as-you-type picker, or arrives from
// a link (#pupils?user=12, from Today, Figures and the alerts); the pupil, the range and the
// period (week or month, shared with Figures) are in the URL.
//
// A photo needs the Bearer token, which an <img src> cannot carry: it is fetched by the API
// client and shown from an object URL, kept while the view is open (an attendance never
// changes picture) and revoked when the row leaves the list or the view is left.
import { get, getAll, getImage, request } from '../api.js';
import { dateRange } from '../date-range.js';
import { badge, field, fill, h, select, table, timeEl } from '../dom.js';
import { exportButtons } from '../export-buttons.js';
import { addDays, bucketLabel, dateTime, day, dayOf, dayShort, duration, startOfDay, temperature, time } from '../format.js';
import { m } from '../i18n.js';
import { pupilPicker } from '../pupil-picker.js';
import type { Attendance, Device, FeverAlert, History, User } from '../types.js';
import { closedText, ruleBox, verdictMark, verdictSentence } from '../verdicts.js';
import type { View } from '../view.js';

type VerdictPeriod = 'week' | 'month';

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
    const asked = ctx.params.get('period');
    const period = select([['week', m.byPeriod.week], ['month', m.byPeriod.month]], asked === 'month' ? 'month' : 'week');
    period.addEventListener('change', () => { ctx.setParams({ period: period.value }); ctx.refreshSoon(); });
    const attendancesPath = () => (userId && range.valid() ? `/api/attendances?school_id=${school.id}&user_id=${userId}`
      + `&from=${encodeURIComponent(startOfDay(range.from.value, tz).toISOString())}&to=${encodeURIComponent(startOfDay(addDays(range.to.value, 1), tz).toISOString())}` : null);
    const csvButton = exportButtons(attendancesPath, ctx.notify);
    csvButton.hidden = true;
    const heading = h('div', { class: 'pupil-head' });
    const body = h('div');
    let deviceNames: Map<string, string> | null = null;
    let destroyed = false;
    range.commit();
    panel.append(
      h('h2', { class: 'view-title' }, m.pupilsAt(school.name)),
      h('form', { class: 'controls', onsubmit: ((e: Event) => { e.preventDefault(); range.commit(); ctx.refreshSoon(); }) as EventListener },
        picker.element, field(m.from, range.from), field(m.to, range.to), field(m.verdictsBy, period), h('button', { type: 'submit' }, m.show), csvButton),
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

    /** The pupil's page, section by section: each gets the pupil, their history (the API's verdicts), attendances (oldest first) and alerts. */
    const sections: Array<(u: User, hist: History, list: Attendance[], alerts: FeverAlert[]) => HTMLElement> = [
      (u, hist) => {
        const p = period.value as VerdictPeriod;
        const periods = hist.periods ?? [];
        const s = hist.summary;
        return h('section', { class: 'pupil-periods' },
          // The rate first, what staff read; then the counts behind it.
          h('p', { class: 'pupil-rate' }, h('strong', {}, `${m.attendanceRate} ${m.rateOf(s.rate)}`)),
          h('p', { class: 'history-summary' }, m.historySummary(s.days_present, s.open_days),
            s.closed_days_attended ? m.closedAttended(s.closed_days_attended) : '',
            [s.late_days ? m.lateDays(s.late_days) : '', s.excused_days ? m.excusedDays(s.excused_days) : '', s.no_data_days ? m.noDataDays(s.no_data_days) : '']
              .filter(Boolean).map((t) => ` · ${t}`).join('')),
          table(m.periodsOf[p](u.name), [m.period, m.attendanceRate, m.verdict, m.daysPresentHeader],
            periods.map((x) => [
              timeEl(x.start, bucketLabel(x.start, p)),
              m.rateOf(x.rate),
              x.status ? verdictMark(x.status, x, m.verdictWord[x.status], 0) : h('span', { class: 'muted' }, m.notCounted),
              x.status ? m.verdictCounts(x.days_present, x.open_days) : '—',
            ]), { empty: m.nothingToShow, className: 'periods' }));
      },
      (u, hist, list, alerts) => {
        // What the history does not carry, per day: a suspect clock (attendances) and a fever (alerts).
        const suspect = new Set(list.filter((a) => a.clock_suspect).map((a) => dayOf(a.occurred_at, tz)));
        const fever = new Set(alerts.map((a) => dayOf(a.occurred_at, tz)));
        const days = [...hist.days].reverse().filter((d) => d.date <= hist.today); // newest first; days to come say nothing yet
        const drawn = table(m.daysOf(u.name), [m.dayHeader, m.school, m.verdict, m.firstCheckin, m.lastCheckout, m.timeIn, m.notes],
          days.map((d) => [
            timeEl(d.date, dayShort(d.date)),
            d.closed ? closedText(d.closed) : m.openDay,
            d.status ? [badge(verdictSentence(d.status, null), d.status === 'present' ? 'ok' : d.status === 'absent' ? 'bad' : 'warn'),
              d.late ? h('span', {}, ' ', badge(m.absentStatus.late, 'warn')) : null,
              d.mark_reason ? ` (${m.markReason[d.mark_reason] ?? d.mark_reason})` : null] : h('span', { class: 'muted' }, m.notCounted),
            d.first_checkin_at ? time(d.first_checkin_at, tz) : '—',
            d.last_event_type === 'checkout' && d.last_event_at ? time(d.last_event_at, tz) : '—',
            d.seconds ? duration(d.seconds) : '—',
            [d.checked_in_now ? badge(m.inNow, 'ok') : null, ...d.anomalies.map((a) => badge(m.anomaly[a] ?? a, 'warn')),
              suspect.has(d.date) ? badge(m.clockSuspect, 'warn') : null, fever.has(d.date) ? badge(m.fever, 'bad') : null,
              d.mark_conflict ? badge(m.markConflict[d.mark_conflict] ?? d.mark_conflict, 'warn') : null],
          ]), { empty: m.noAttendance });
        drawn.querySelectorAll('tbody tr').forEach((tr, i) => { if (days[i]?.closed) tr.classList.add('closed'); });
        return h('section', { class: 'pupil-days' }, drawn, h('p', { class: 'muted' }, m.historyNote));
      },
      (u, _hist, list) => {
        const newest = [...list].reverse(); // a person wants the latest on top
        forget(new Set(newest.filter((a) => a.photo).map((a) => a.id)));
        const withdrawnIds = new Set(newest.filter((a) => a.cancels_id !== null).map((a) => a.cancels_id));
        const shownRows = newest.filter((a) => a.cancels_id === null);
        return h('section', { class: 'pupil-attendances' }, table(m.attendancesOf(u.name, shownRows.length), [m.time, m.typeHeader, m.temperature, m.device, m.photo],
          shownRows.map((a) => {
            const when = dateTime(a.occurred_at, tz);
            // A correction: entered by staff with a reason; it can be withdrawn (a new row cancels it).
            const correction = a.device_id === null && a.reason !== null;
            const withdrawButton = correction && !withdrawnIds.has(a.id)
              ? h('button', { type: 'button', class: 'secondary', onclick: (() => void withdraw(a.id)) as EventListener }, m.withdraw) : null;
            return [
              [when, a.clock_suspect ? ' ' : null, a.clock_suspect ? badge(m.clockSuspect, 'warn') : null],
              a.type === 'checkin' ? m.checkin : m.checkout,
              a.temperature === null ? '—' : a.temperature >= school.fever_threshold ? badge(temperature(a.temperature), 'bad') : temperature(a.temperature),
              [deviceOf(a), correction ? h('span', {}, ' ', badge(withdrawnIds.has(a.id) ? `${m.correction}, ${m.withdrawn}` : m.correction, 'warn'), ` ${a.reason}`) : null, withdrawButton],
              photoCell(a, when),
            ];
          }), { empty: m.noAttendance, className: 'attendances' }), actionForms(u));
      },
      (u, _hist, _list, alerts) => table(m.alertsOf(u.name, alerts.length), [m.time, m.temperature, m.device],
        alerts.map((a) => [dateTime(a.occurred_at, tz), temperature(a.temperature), deviceOf(a)]), { empty: m.noAlertOfPupil }),
    ];

    // What the last action answered: kept across the redraw it triggers.
    const notes = { excuse: '', correction: '' };

    async function withdraw(id: number): Promise<void> {
      const reason = window.prompt(m.withdrawReason);
      if (!reason) return;
      await request('POST', `/api/attendances/${id}/withdraw`, { reason });
      ctx.refreshSoon();
    }

    /** Staff act from here: excuse a range of days with a reason, add a missed check-in or check-out. */
    function actionForms(u: User): HTMLElement {
      const today = range.to.value;
      const from = h('input', { type: 'date', value: today, required: true, name: 'excuse-from' }) as HTMLInputElement;
      const to = h('input', { type: 'date', value: today, required: true, name: 'excuse-to' }) as HTMLInputElement;
      const reason = select(Object.entries(m.markReason), 'illness');
      reason.name = 'excuse-reason';
      const excuseMsg = h('p', { class: 'muted', role: 'status' }, notes.excuse);
      const excuse = h('form', { class: 'controls excuse', onsubmit: (async (e: Event) => {
        e.preventDefault();
        try {
          const out = await request<{ items: unknown[] }>('POST', '/api/marks', { user_id: u.id, from: from.value, to: to.value, mark: 'excused', reason: reason.value, via: 'dashboard' });
          excuseMsg.textContent = notes.excuse = m.excused(out.items.length);
          ctx.refreshSoon();
        } catch (err) { excuseMsg.textContent = notes.excuse = (err as Error).message; }
      }) as unknown as EventListener },
      h('h3', {}, m.excuseTitle), field(m.excuseFrom, from), field(m.excuseTo, to), field(m.excuseReason, reason), h('button', { type: 'submit' }, m.excuseSave), excuseMsg);
      const when = h('input', { type: 'datetime-local', required: true, name: 'correction-at' }) as HTMLInputElement;
      const type = select([['checkin', m.checkin], ['checkout', m.checkout]], 'checkout');
      type.name = 'correction-type';
      const why = h('input', { type: 'text', required: true, maxlength: 500, name: 'correction-reason' }) as HTMLInputElement;
      const corrMsg = h('p', { class: 'muted', role: 'status' }, notes.correction);
      const correction = h('form', { class: 'controls correction', onsubmit: (async (e: Event) => {
        e.preventDefault();
        try {
          // The local wall time in the school's zone, as the rest of the page shows times.
          const [d, t] = when.value.split('T');
          const at = new Date(startOfDay(d, tz).getTime() + (Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5))) * 60_000);
          await request('POST', '/api/attendances', { user_id: u.id, type: type.value, occurred_at: at.toISOString(), reason: why.value });
          corrMsg.textContent = notes.correction = '';
          ctx.refreshSoon();
        } catch (err) { corrMsg.textContent = notes.correction = (err as Error).message; }
      }) as unknown as EventListener },
      h('h3', {}, m.correctionTitle), field(m.correctionWhen, when), field(m.correctionType, type), field(m.correctionReason, why), h('button', { type: 'submit' }, m.correctionSave), corrMsg);
      return h('div', { class: 'pupil-actions no-print' }, excuse, correction);
    }

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
        const [hist, list, schoolAlerts] = await Promise.all([
          get<History>(`/api/users/${userId}/history?from=${range.from.value}&to=${range.to.value}&period=${period.value}`),
          getAll<Attendance>(`/api/attendances?school_id=${school.id}&user_id=${userId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
          // The alerts API has no pupil filter: the school's alerts of the range, this pupil's kept.
          getAll<FeverAlert>(`/api/alerts?school_id=${school.id}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`),
        ]);
        const u = user!;
        csvButton.hidden = false;
        fill(heading, h('h3', { class: 'pupil-name' }, u.name), h('p', { class: 'muted' }, `${m.labelled(m.badge, u.badge)} · ${m.enrolledOn(day(u.enrolled_on))}`));
        const mine = schoolAlerts.filter((a) => a.user_id === u.id);
        fill(body, sections.map((draw) => draw(u, hist, list, mine)), ruleBox(hist.rule));
      },
      destroy() {
        destroyed = true;
        forget(new Set());
      },
    };
  },
};

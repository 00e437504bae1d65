// The school's calendar (issue #29 item 3): a month at a time, each day open or closed and
// why (its school days, its own entries and its shared calendar's, as the figures apply
// them); the school's own entries added, changed and removed; and an iCalendar file imported
// with its dry run first: each event's kind comes from the file's CATEGORIES, and the preview
// shows that mapping, one row per category, for the person importing to change before
// importing. Every write is audited by the api. The month is in the URL (#calendar?month=…).
import { del, get, patch, post, postText } from '../api.js';
import { confirmAction } from '../confirm.js';
import { badge, field, fill, h, select, table, timeEl, uid } from '../dom.js';
import { addDays, dateTime, dayRange, monthLabel, weekdaysShort } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import { todayIn } from '../school-time.js';
import type { AuditEntry, CalendarEntry, CalendarImport, EntryKind, Page, SchoolCalendar } from '../types.js';
import { closedWhy } from '../verdicts.js';
import type { View } from '../view.js';

const KINDS: EntryKind[] = ['term', 'holiday', 'public_holiday', 'closure'];
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function monthStart(month: string): string {
  return `${month}-01`;
}

function shiftMonth(month: string, n: number): string {
  const [y, mo] = month.split('-').map(Number);
  const d = new Date(Date.UTC(y, mo - 1 + n, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Monday on or before a day, as the grid starts its weeks. */
function mondayOf(isoDay: string): string {
  const wd = (new Date(`${isoDay}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(isoDay, -wd);
}

const kindSelect = (value: EntryKind) => select(KINDS.map((k) => [k, m.entryKind[k]]), value);

export const calendarView: View = {
  id: 'calendar',
  mount(panel, ctx) {
    const { school } = ctx;
    const asked = ctx.params.get('month');
    let month = asked && MONTH.test(asked) ? asked : todayIn(school.timezone).slice(0, 7);
    let calendar: SchoolCalendar | null = null;

    const monthTitle = h('h3', { class: 'month-title', 'aria-live': 'polite' });
    const grid = h('div');
    const entriesBox = h('div');
    const previewBox = h('div', { class: 'import-preview' });
    const historyBox = h('section', { class: 'calendar-history', 'aria-labelledby': 'history-title' });

    // ---- the entry form: add, or change the entry being edited ----
    let editing: CalendarEntry | null = null;
    const formTitle = h('h3', { id: uid('entry-form') });
    const kind = kindSelect('closure');
    const label = h('input', { type: 'text', required: true, maxlength: 200, autocomplete: 'off' });
    const startsOn = h('input', { type: 'date', required: true });
    const endsOn = h('input', { type: 'date', required: true });
    const saveButton = h('button', { type: 'submit' });
    const cancelEdit = h('button', { type: 'button', class: 'secondary', hidden: true }, m.cancel);
    const resetForm = () => {
      editing = null;
      kind.value = 'closure';
      label.value = '';
      startsOn.value = '';
      endsOn.value = '';
      formTitle.textContent = m.addEntry;
      saveButton.textContent = m.addEntryButton;
      cancelEdit.hidden = true;
    };
    const entryForm = h('form', { class: 'entry-form', 'aria-labelledby': formTitle.id },
      formTitle,
      h('div', { class: 'controls' }, field(m.entryKindLabel, kind), field(m.entryLabel, label), field(m.from, startsOn), field(m.to, endsOn), saveButton, cancelEdit));
    resetForm();
    cancelEdit.addEventListener('click', resetForm);
    startsOn.addEventListener('change', () => { if (!endsOn.value || endsOn.value < startsOn.value) endsOn.value = startsOn.value; });
    entryForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { kind: kind.value, label: label.value.trim(), starts_on: startsOn.value, ends_on: endsOn.value };
      try {
        if (editing) {
          await patch(`/api/schools/${school.id}/calendar/entries/${editing.id}`, body);
          ctx.notify(m.entryChanged(body.label), 'ok');
        } else {
          await post(`/api/schools/${school.id}/calendar/entries`, body);
          ctx.notify(m.entryAdded(body.label), 'ok');
        }
        month = body.starts_on.slice(0, 7);
        resetForm();
        ctx.refreshSoon();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    });

    // ---- the import: a file, its dry run with the mapping, then the import ----
    const file = h('input', { type: 'file', accept: '.ics,text/calendar' });
    const fallback = kindSelect('holiday');
    const previewButton = h('button', { type: 'submit' }, m.previewImport);
    let text: string | null = null;
    let mapping: Record<string, EntryKind> = {};
    const importPath = (dryRun: boolean) => `/api/schools/${school.id}/calendar/import?dry_run=${dryRun}&kind=${fallback.value}`
      + `&categories=${encodeURIComponent(JSON.stringify(mapping))}`;
    const runImport = async (dryRun: boolean) => {
      if (text === null) return;
      try {
        const report = await postText<CalendarImport>(importPath(dryRun), text, 'text/calendar');
        if (dryRun) drawPreview(report);
        else {
          fill(previewBox);
          text = null;
          file.value = '';
          ctx.notify(m.imported(report.summary.added, report.summary.changed), 'ok');
          ctx.refreshSoon();
        }
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    };
    const importForm = h('form', { class: 'controls import-form' },
      field(m.icsFile, file), field(m.defaultKind, fallback), previewButton);
    importForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) return ctx.notify(m.chooseIcs, 'error');
      text = await chosen.text();
      mapping = {};
      await runImport(true);
    });
    fallback.addEventListener('change', () => { if (text !== null) void runImport(true); });

    function drawPreview(r: CalendarImport): void {
      const mappingTable = table(m.categoriesCaption, [m.category, m.events, m.entryKindLabel],
        r.categories.map((c) => {
          const choice = kindSelect(c.kind);
          choice.setAttribute('aria-label', m.kindOfCategory(c.name || m.noCategory));
          choice.addEventListener('change', () => { mapping = { ...mapping, [c.name]: choice.value as EntryKind }; void runImport(true); });
          return [c.name || h('span', { class: 'muted' }, m.noCategory), num(c.events), [choice, ' ', h('span', { class: 'muted' }, m.kindSource[c.source])]];
        }), { className: 'category-map' });
      const items = table(m.previewCaption(r.calendar_name), [m.action, m.entryKindLabel, m.entryLabel, m.dates],
        r.items.map((i) => [
          badge(m.importAction[i.action], i.action === 'add' ? 'ok' : i.action === 'change' ? 'warn' : 'info'),
          m.entryKind[i.kind], i.label, dayRange(i.starts_on, i.ends_on),
        ]), { empty: m.nothingToImport, className: 'import-items' });
      const skipped = r.skipped.length ? h('p', { class: 'muted' }, m.skippedEvents(r.skipped.length, r.skipped.map((s) => `${s.label ?? s.uid ?? '?'} (${s.reason})`).join(', '))) : null;
      const go = h('button', { type: 'button', disabled: r.summary.added + r.summary.changed === 0 }, m.importNow(r.summary.added, r.summary.changed));
      go.addEventListener('click', () => void runImport(false));
      fill(previewBox,
        h('p', { role: 'status' }, m.previewSummary(r.summary.added, r.summary.changed, r.summary.unchanged, r.summary.skipped)),
        mappingTable, items, skipped, h('div', { class: 'controls' }, go));
    }

    const go = (n: number) => { month = shiftMonth(month, n); ctx.refreshSoon(); };
    panel.append(
      h('h2', { class: 'view-title' }, m.calendarOf(school.name)),
      h('div', { class: 'controls month-nav' },
        h('button', { type: 'button', class: 'secondary', onclick: () => go(-1) }, m.previousMonth),
        monthTitle,
        h('button', { type: 'button', class: 'secondary', onclick: () => go(1) }, m.nextMonth)),
      grid,
      h('section', { 'aria-labelledby': 'entries-title' }, h('h3', { id: 'entries-title' }, m.entriesTitle), entriesBox, entryForm),
      h('section', { class: 'import', 'aria-labelledby': 'import-title' },
        h('h3', { id: 'import-title' }, m.importTitle), h('p', { class: 'muted' }, m.importHelp), importForm, previewBox),
      historyBox);

    /** Who changed the calendar, when, and what: the audit trail's latest rows (GET /api/audit). */
    function drawHistory(rows: AuditEntry[]): void {
      const what = (r: AuditEntry) => {
        const d = r.details as { entry?: { label?: string }; after?: { label?: string }; calendar_name?: string | null; summary?: { added: number; changed: number } };
        const label = d.entry?.label ?? d.after?.label ?? d.calendar_name ?? '';
        return r.action === 'calendar.import' && d.summary ? `${label ? `${label} — ` : ''}${m.imported(d.summary.added, d.summary.changed)}` : label;
      };
      fill(historyBox, h('h3', { id: 'history-title' }, m.historyTitle),
        table(m.historyCaption, [m.time, m.whoDid, m.action, m.entryLabel],
          rows.map((r) => [dateTime(r.at, school.timezone), r.staff_email, m.auditAction[r.action] ?? r.action, what(r)]), { empty: m.noHistory, className: 'history' }));
    }

    function drawGrid(cal: SchoolCalendar, from: string): void {
      const days = new Map((cal.days ?? []).map((d) => [d.date, d]));
      const weekdays = weekdaysShort();
      const rows = [];
      for (let week = 0; week < 6; week++) {
        const first = addDays(from, week * 7);
        if (week > 0 && first.slice(0, 7) !== month) break;
        rows.push(h('tr', {}, Array.from({ length: 7 }, (_, i) => {
          const date = addDays(first, i);
          const d = days.get(date);
          const outside = date.slice(0, 7) !== month;
          const why = d && !d.open && d.reason ? closedWhy({ reason: d.reason, label: d.label ?? '' }) : null;
          return h('td', { class: [d?.open ? 'open' : 'closed', outside ? 'outside' : '', d?.reason ?? ''].filter(Boolean).join(' ') },
            timeEl(date, String(Number(date.slice(8)))),
            h('span', { class: 'day-state' }, d ? (d.open ? m.openDay : why) : ''));
        })));
      }
      fill(grid, h('div', { class: 'table-wrap month-grid' }, h('table', {},
        h('caption', {}, m.monthCaption(monthLabel(month))),
        h('thead', {}, h('tr', {}, weekdays.map((w) => h('th', { scope: 'col' }, w)))),
        h('tbody', {}, rows))));
    }

    function drawEntries(cal: SchoolCalendar): void {
      fill(entriesBox, table(m.entriesCaption(cal.shared_calendar?.name ?? null), [m.dates, m.entryKindLabel, m.entryLabel, m.source, m.actions],
        cal.entries.map((e) => [
          dayRange(e.starts_on, e.ends_on), m.entryKind[e.kind], e.label,
          e.source === 'school' ? m.ownEntry : m.sharedEntry(cal.shared_calendar?.name ?? ''),
          e.source !== 'school' ? '' : [
            h('button', { type: 'button', class: 'secondary', 'aria-label': m.editEntry(e.label), onclick: () => {
              editing = e;
              kind.value = e.kind;
              label.value = e.label;
              startsOn.value = e.starts_on;
              endsOn.value = e.ends_on;
              formTitle.textContent = m.changeEntry(e.label);
              saveButton.textContent = m.save;
              cancelEdit.hidden = false;
              label.focus();
            } }, m.edit), ' ',
            h('button', { type: 'button', class: 'secondary', 'aria-label': m.deleteEntry(e.label), onclick: async () => {
              if (!(await confirmAction(m.deleteEntry(e.label), [m.deleteEntryBody(e.label, dayRange(e.starts_on, e.ends_on))], m.delete))) return;
              try {
                await del(`/api/schools/${school.id}/calendar/entries/${e.id}`);
                ctx.notify(m.entryDeleted(e.label), 'ok');
                ctx.refreshSoon();
              } catch (err) {
                ctx.notify((err as Error).message, 'error');
              }
            } }, m.delete),
          ],
        ]), { empty: m.noEntryThisMonth, className: 'entries' }));
    }

    return {
      async refresh() {
        ctx.setParams({ month });
        const from = mondayOf(monthStart(month));
        const to = addDays(from, 41);
        const [cal, history] = await Promise.all([
          get<SchoolCalendar>(`/api/schools/${school.id}/calendar?from=${from}&to=${to}`),
          get<Page<AuditEntry>>(`/api/audit?school_id=${school.id}&limit=10`),
        ]);
        calendar = cal;
        drawHistory(history.items);
        const label = monthLabel(month);
        monthTitle.textContent = label;
        ctx.setPrintPeriod(label);
        drawGrid(calendar, from);
        drawEntries(calendar);
      },
    };
  },
};

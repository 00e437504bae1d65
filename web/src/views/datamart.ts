// The regional data mart export (backoffice): runs newest first with their window, row counts
// and uploads; one run's stages, sub-stages, uploads and errors; starting a run now. Runs
// are not a school's, so the school picker does not apply. While a run is queued or running
// the view follows it every FOLLOW_MS instead of waiting for the shell's 20 s refresh.
import { ApiError, get, post } from '../api.js';
import { badge, fill, h, table } from '../dom.js';
import { dateTimeSeconds } from '../format.js';
import { m } from '../i18n.js';
import { num } from '../intl.js';
import type { DatamartRun, DatamartRunDetail, DatamartStage, DatamartUpload, Page } from '../types.js';
import type { View } from '../view.js';

const FOLLOW_MS = 2000;
const PAGE = 20;
const RUN_TONE = { queued: 'info', running: 'warn', done: 'ok', failed: 'bad' } as const;
const STEP_TONE = { running: 'warn', done: 'ok', failed: 'bad' } as const;
const UPLOAD_TONE = { processing: 'info', accepted: 'ok', rejected: 'bad', failed: 'bad' } as const;
const ERRORS_SHOWN = 5;

// Runs span schools: times are in the reader's own zone (the view says so), to the second (windows are to the microsecond).
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const when = (iso: string | null): string => dateTimeSeconds(iso, zone);

const active = (r: Pick<DatamartRun, 'status'>) => r.status === 'queued' || r.status === 'running';

function windowText(r: Pick<DatamartRun, 'status' | 'window' | 'requested_window'>): string {
  if (r.window.from === null && r.window.to === null) return r.status === 'queued' ? m.notStartedYet : '—';
  const text = `${r.window.from ? when(r.window.from) : m.theBeginning} → ${r.window.to ? when(r.window.to) : '…'}`;
  return r.requested_window ? `${text} ${m.askedFor}` : text;
}

function uploadsText(u: DatamartRun['uploads']): string {
  if (u.accepted + u.processing + u.rejected + u.failed === 0) return m.none;
  return m.uploadCounts(u.accepted, u.processing, u.rejected, u.failed);
}

/** The mart's errors are free-form JSON: a string, or an object with a message, or anything else as JSON. */
function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
  return JSON.stringify(e);
}

function statusCell(status: keyof typeof RUN_TONE | keyof typeof STEP_TONE, tone: 'ok' | 'warn' | 'bad' | 'info', error: string | null): Array<Node | string | null> {
  return [badge(m.runStatus[status] ?? status, tone), error ? h('div', { class: 'error-text' }, error) : null];
}

export const datamartView: View = {
  id: 'datamart',
  backofficeOnly: true,
  zone: 'reader',
  mount(panel, ctx) {
    const start = h('button', { type: 'button' }, m.startRun);
    const list = h('div');
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, m.loadOlderRuns);
    const detail = h('section', { class: 'run-detail', 'aria-live': 'polite' });
    let runs: DatamartRun[] = [];
    let cursor: string | null = null;
    let chosen: DatamartRunDetail | null = null;
    const openStages = new Set<number>(); // sub-stage lists the reader opened stay open across redraws
    let timer: ReturnType<typeof setTimeout> | null = null;

    panel.append(
      h('h2', { class: 'view-title' }, m.datamartTitle),
      h('p', { class: 'muted' }, m.datamartHelp),
      h('div', { class: 'controls' }, start),
      list, more, detail);

    function drawList(): void {
      fill(list, table(m.runsCaption(runs.length, cursor !== null), [m.run, m.trigger, m.status, m.window, m.rowsCollected, m.rowsExported, m.uploads, m.started, m.finished, ''],
        runs.map((r) => {
          const open = h('button', { type: 'button', class: 'secondary', 'aria-label': m.detailsOfRun(r.id) }, m.details);
          open.addEventListener('click', () => void showRun(r.id, true));
          return [`#${r.id}`, m.triggers[r.trigger] ?? r.trigger, statusCell(r.status, RUN_TONE[r.status], r.error), windowText(r),
            num(r.rows_collected), num(r.rows_exported), uploadsText(r.uploads), when(r.started_at), when(r.finished_at), open];
        }), { empty: m.noRunYet }));
      more.hidden = !cursor;
    }

    function stageRow(s: DatamartStage): Array<Node | string | number | null | Array<Node | string | null>> {
      const failed = s.substages.filter((ss) => ss.status === 'failed').length;
      const sub = h('details', { ontoggle: (() => { if (sub.open) openStages.add(s.id); else openStages.delete(s.id); }) as EventListener },
        h('summary', {}, m.substages(s.substages.length, failed)),
        h('ul', { class: 'plain' }, s.substages.map((ss) => h('li', {},
          `#${ss.seq} `, badge(m.runStatus[ss.status] ?? ss.status, STEP_TONE[ss.status]), ` ${m.rows(ss.rows)}`, ss.error ? h('div', { class: 'error-text' }, ss.error) : null))));
      sub.open = openStages.has(s.id);
      return [s.seq, s.kind, s.entity, s.operation ?? '—', statusCell(s.status, STEP_TONE[s.status], s.error), num(s.rows), when(s.started_at), when(s.finished_at),
        s.substages.length ? sub : '—'];
    }

    function uploadRow(u: DatamartUpload): Array<Node | string | number | null | Array<Node | string | null>> {
      const errors = u.errors.length === 0 ? '—' : h('ul', { class: 'plain error-text' },
        u.errors.slice(0, ERRORS_SHOWN).map((e) => h('li', {}, errorText(e))),
        u.errors.length > ERRORS_SHOWN ? h('li', {}, m.andMore(u.errors.length - ERRORS_SHOWN)) : null);
      return [u.file_name, u.entity, u.operation, num(u.rows), num(u.bytes), badge(m.uploadStatus[u.status] ?? u.status, UPLOAD_TONE[u.status]), u.remote_id ?? '—', num(u.attempts), errors];
    }

    function drawDetail(r: DatamartRunDetail): void {
      fill(detail,
        h('h3', { id: 'run-title', tabindex: -1 }, m.runTitle(r.id)),
        h('p', {}, badge(m.runStatus[r.status] ?? r.status, RUN_TONE[r.status]), m.runSummary(r.trigger === 'manual', windowText(r), r.rows_collected, r.rows_exported, r.uploads.length)),
        r.error ? h('p', { class: 'error-text' }, r.error) : null,
        table(m.stagesOf(r.id), ['#', m.kindHeader, m.entity, m.operation, m.status, m.rowsHeader, m.started, m.finished, m.substagesHeader],
          r.stages.map(stageRow), { empty: active(r) ? m.noStageYet : m.noStage }),
        table(m.uploadsOf(r.id), [m.file, m.entity, m.operation, m.rowsHeader, m.bytes, m.status, m.martUploadId, m.attempts, m.errorsHeader],
          r.uploads.map(uploadRow), { empty: m.noFileSent }));
    }

    async function showRun(id: number, focus = false): Promise<void> {
      try {
        chosen = await get<DatamartRunDetail>(`/api/datamart/runs/${id}`);
        drawDetail(chosen);
        if (focus) (detail.querySelector('#run-title') as HTMLElement | null)?.focus();
        follow();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    }

    /** Follows active runs (and uploads the mart is still processing) sooner than the shell would. */
    function follow(): void {
      if (timer) clearTimeout(timer);
      timer = null;
      const busy = runs.some(active) || (chosen !== null && (active(chosen) || chosen.uploads.some((u) => u.status === 'processing')));
      if (busy) timer = setTimeout(() => ctx.refreshSoon(), FOLLOW_MS);
    }

    start.addEventListener('click', async () => {
      start.disabled = true;
      try {
        const run = await post<DatamartRun>('/api/datamart/runs', {});
        ctx.notify(m.runQueued(run.id));
      } catch (err) {
        // 409 datamart_run_in_progress: the problem's detail says what to do; the list, refreshed below, shows which run it is.
        ctx.notify(err instanceof ApiError ? err.message : m.somethingWrong((err as Error).message), 'error');
      } finally {
        start.disabled = false;
        ctx.refreshSoon();
      }
    });

    more.addEventListener('click', async () => {
      try {
        const page = await get<Page<DatamartRun>>(`/api/datamart/runs?limit=${PAGE}&cursor=${encodeURIComponent(cursor!)}`);
        runs = [...runs, ...page.items];
        cursor = page.next_cursor;
        drawList();
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
      }
    });

    return {
      async refresh() {
        const page = await get<Page<DatamartRun>>(`/api/datamart/runs?limit=${PAGE}`);
        runs = page.items;
        cursor = page.next_cursor;
        drawList();
        // A finished run's detail only changes while the mart is still processing one of its files.
        if (chosen && (active(chosen) || chosen.uploads.some((u) => u.status === 'processing'))) {
          chosen = await get<DatamartRunDetail>(`/api/datamart/runs/${chosen.id}`);
          drawDetail(chosen);
        }
        follow();
      },
      destroy() {
        if (timer) clearTimeout(timer);
      },
    };
  },
};

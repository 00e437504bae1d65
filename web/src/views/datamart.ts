// The regional data mart export (backoffice): runs newest first with their window, row counts
// and uploads; one run's stages, sub-stages, uploads and errors; starting a run now. Runs
// are not a school's, so the school picker does not apply. While a run is queued or running
// the view follows it every FOLLOW_MS instead of waiting for the shell's 20 s refresh.
import { ApiError, get, post } from '../api.js';
import { badge, fill, h, table } from '../dom.js';
import type { DatamartRun, DatamartRunDetail, DatamartStage, DatamartUpload, Page } from '../types.js';
import type { View } from '../view.js';

const FOLLOW_MS = 2000;
const PAGE = 20;
const RUN_TONE = { queued: 'info', running: 'warn', done: 'ok', failed: 'bad' } as const;
const STEP_TONE = { running: 'warn', done: 'ok', failed: 'bad' } as const;
const UPLOAD_TONE = { processing: 'info', accepted: 'ok', rejected: 'bad', failed: 'bad' } as const;
const ERRORS_SHOWN = 5;

// Runs span schools: times are in the reader's own zone, to the second (windows are to the microsecond).
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const when = (iso: string | null): string => iso
  ? new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso)) : '—';

const active = (r: Pick<DatamartRun, 'status'>) => r.status === 'queued' || r.status === 'running';

function windowText(r: Pick<DatamartRun, 'status' | 'window' | 'requested_window'>): string {
  if (r.window.from === null && r.window.to === null) return r.status === 'queued' ? 'not started yet' : '—';
  const text = `${r.window.from ? when(r.window.from) : 'the beginning'} → ${r.window.to ? when(r.window.to) : '…'}`;
  return r.requested_window ? `${text} (asked for)` : text;
}

function uploadsText(u: DatamartRun['uploads']): string {
  if (u.accepted + u.processing + u.rejected + u.failed === 0) return 'none';
  const parts = [`${u.accepted} accepted`, u.processing && `${u.processing} processing`, u.rejected && `${u.rejected} rejected`, u.failed && `${u.failed} failed`];
  return parts.filter(Boolean).join(', ');
}

/** The mart's errors are free-form JSON: a string, or an object with a message, or anything else as JSON. */
function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
  return JSON.stringify(e);
}

function statusCell(status: keyof typeof RUN_TONE | keyof typeof STEP_TONE, tone: 'ok' | 'warn' | 'bad' | 'info', error: string | null): Array<Node | string | null> {
  return [badge(status, tone), error ? h('div', { class: 'error-text' }, error) : null];
}

export const datamartView: View = {
  id: 'datamart',
  title: 'Data mart',
  backofficeOnly: true,
  mount(panel, ctx) {
    const start = h('button', { type: 'button' }, 'Start a run now');
    const list = h('div');
    const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load older runs');
    const detail = h('section', { class: 'run-detail', 'aria-live': 'polite' });
    let runs: DatamartRun[] = [];
    let cursor: string | null = null;
    let chosen: DatamartRunDetail | null = null;
    const openStages = new Set<number>(); // sub-stage lists the reader opened stay open across redraws
    let timer: ReturnType<typeof setTimeout> | null = null;

    panel.append(
      h('h2', { class: 'view-title' }, 'Data mart export'),
      h('p', { class: 'muted' }, 'Every school\'s data goes to the regional data mart in runs: the changed rows are collected, then sent as files. Runs start on a schedule; start one now when the mart needs fresh data.'),
      h('div', { class: 'controls' }, start),
      list, more, detail);

    function drawList(): void {
      fill(list, table(`Data mart runs (${runs.length}${cursor ? '+' : ''})`, ['Run', 'Trigger', 'Status', 'Window', 'Rows collected', 'Rows exported', 'Uploads', 'Started', 'Finished', ''],
        runs.map((r) => {
          const open = h('button', { type: 'button', class: 'secondary', 'aria-label': `Details of run ${r.id}` }, 'Details');
          open.addEventListener('click', () => void showRun(r.id, true));
          return [`#${r.id}`, r.trigger, statusCell(r.status, RUN_TONE[r.status], r.error), windowText(r),
            r.rows_collected, r.rows_exported, uploadsText(r.uploads), when(r.started_at), when(r.finished_at), open];
        }), { empty: 'No run yet.' }));
      more.hidden = !cursor;
    }

    function stageRow(s: DatamartStage): Array<Node | string | number | null | Array<Node | string | null>> {
      const failed = s.substages.filter((ss) => ss.status === 'failed').length;
      const sub = h('details', { ontoggle: (() => { if (sub.open) openStages.add(s.id); else openStages.delete(s.id); }) as EventListener },
        h('summary', {}, `${s.substages.length} sub-stage${s.substages.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`),
        h('ul', { class: 'plain' }, s.substages.map((ss) => h('li', {},
          `#${ss.seq} `, badge(ss.status, STEP_TONE[ss.status]), ` ${ss.rows} rows`, ss.error ? h('div', { class: 'error-text' }, ss.error) : null))));
      sub.open = openStages.has(s.id);
      return [s.seq, s.kind, s.entity, s.operation ?? '—', statusCell(s.status, STEP_TONE[s.status], s.error), s.rows, when(s.started_at), when(s.finished_at),
        s.substages.length ? sub : '—'];
    }

    function uploadRow(u: DatamartUpload): Array<Node | string | number | null | Array<Node | string | null>> {
      const errors = u.errors.length === 0 ? '—' : h('ul', { class: 'plain error-text' },
        u.errors.slice(0, ERRORS_SHOWN).map((e) => h('li', {}, errorText(e))),
        u.errors.length > ERRORS_SHOWN ? h('li', {}, `and ${u.errors.length - ERRORS_SHOWN} more (the API lists them all)`) : null);
      return [u.file_name, u.entity, u.operation, u.rows, u.bytes, badge(u.status, UPLOAD_TONE[u.status]), u.remote_id ?? '—', u.attempts, errors];
    }

    function drawDetail(r: DatamartRunDetail): void {
      fill(detail,
        h('h3', { id: 'run-title', tabindex: -1 }, `Run #${r.id}`),
        h('p', {}, badge(r.status, RUN_TONE[r.status]), ` ${r.trigger === 'manual' ? 'started by hand' : 'scheduled'}, window ${windowText(r)}; `,
          `${r.rows_collected} rows collected, ${r.rows_exported} exported; ${r.uploads.length} file${r.uploads.length === 1 ? '' : 's'} sent.`),
        r.error ? h('p', { class: 'error-text' }, r.error) : null,
        table(`Stages of run #${r.id}`, ['#', 'Kind', 'Entity', 'Operation', 'Status', 'Rows', 'Started', 'Finished', 'Sub-stages'],
          r.stages.map(stageRow), { empty: active(r) ? 'No stage has started yet.' : 'No stage.' }),
        table(`Uploads of run #${r.id}`, ['File', 'Entity', 'Operation', 'Rows', 'Bytes', 'Status', 'Mart upload id', 'Attempts', 'Errors'],
          r.uploads.map(uploadRow), { empty: 'No file was sent: nothing had changed.' }));
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
        ctx.notify(`Run #${run.id} queued.`);
      } catch (err) {
        // 409 datamart_run_in_progress: the problem's detail says what to do; the list, refreshed below, shows which run it is.
        ctx.notify(err instanceof ApiError ? err.message : `Something went wrong: ${(err as Error).message}`, 'error');
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

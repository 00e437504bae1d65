// Recompute the figures of a date range (backoffice): starts the rebuild and follows its
// progress (one-week chunks) until it is done.
import { get, post } from '../api.js';
import { dateRange } from '../date-range.js';
import { field, fill, h } from '../dom.js';
import { dayRange } from '../format.js';
import { m } from '../i18n.js';
import type { Job } from '../types.js';
import type { View } from '../view.js';

const FOLLOW_MS = 1000;

export const rebuildView: View = {
  id: 'rebuild',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school } = ctx;
    const range = dateRange(ctx, 30);
    const start = h('button', { type: 'submit' }, m.startRebuild);
    const progress = h('progress', { max: 1, value: 0, id: 'rebuild-progress' });
    const state = h('p', { 'aria-live': 'polite' });
    const result = h('div', { class: 'rebuild-state', hidden: true }, h('label', { for: 'rebuild-progress' }, m.rebuildProgress), progress, state);
    let timer: ReturnType<typeof setTimeout> | null = null;
    range.commit();
    for (const input of [range.from, range.to]) input.addEventListener('change', () => range.commit());

    function show(job: Job): void {
      result.hidden = false;
      progress.max = Math.max(1, job.chunks_total);
      progress.value = job.chunks_done + job.chunks_failed;
      fill(state, m.rebuildState(dayRange(job.from, job.to), job.chunks_done, job.chunks_total),
        job.chunks_failed ? m.rebuildFailed(job.chunks_failed) : '', job.status === 'running' ? ' …' : m.rebuildFinished(m.jobStatus[job.status], job.days_changed));
      state.dataset.status = job.status;
    }

    async function follow(id: number): Promise<void> {
      try {
        const job = await get<Job>(`/api/jobs/${id}`);
        show(job);
        if (job.status === 'running') timer = setTimeout(() => void follow(id), FOLLOW_MS);
        else start.disabled = false;
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
        start.disabled = false;
      }
    }

    const form = h('form', { class: 'controls', 'aria-label': m.rebuildFigures }, field(m.from, range.from), field(m.to, range.to), start);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      range.commit();
      if (!range.valid()) return ctx.notify(m.rangeError, 'error');
      start.disabled = true;
      try {
        const job = await post<Job>(`/api/schools/${school.id}/rebuild-figures`, { from: range.from.value, to: range.to.value });
        ctx.notify(m.rebuildStarted(school.name));
        show(job);
        await follow(job.id);
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
        start.disabled = false;
      }
    });
    panel.append(h('h2', { class: 'view-title' }, m.rebuildOf(school.name)),
      h('p', { class: 'muted' }, m.rebuildHelp),
      form, range.summary, result);
    return {
      async refresh() { /* progress is followed on its own timer */ },
      destroy() { if (timer) clearTimeout(timer); },
    };
  },
};

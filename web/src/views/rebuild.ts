// Recompute the figures of a date range (backoffice): starts the rebuild and follows its
// progress (one-week chunks) until it is done.
import { get, post } from '../api.js';
import { field, fill, h } from '../dom.js';
import { addDays } from '../format.js';
import { todayIn } from '../school-time.js';
import type { Job } from '../types.js';
import type { View } from '../view.js';

const FOLLOW_MS = 1000;

export const rebuildView: View = {
  id: 'rebuild',
  title: 'Rebuild',
  backofficeOnly: true,
  mount(panel, ctx) {
    const { school } = ctx;
    const today = todayIn(school.timezone);
    const from = h('input', { type: 'date', value: addDays(today, -30), required: true });
    const to = h('input', { type: 'date', value: today, required: true });
    const start = h('button', { type: 'submit' }, 'Start rebuild');
    const progress = h('progress', { max: 1, value: 0, id: 'rebuild-progress' });
    const state = h('p', { 'aria-live': 'polite' });
    const result = h('div', { class: 'rebuild-state', hidden: true }, h('label', { for: 'rebuild-progress' }, 'Rebuild progress'), progress, state);
    let timer: ReturnType<typeof setTimeout> | null = null;

    function show(job: Job): void {
      result.hidden = false;
      progress.max = Math.max(1, job.chunks_total);
      progress.value = job.chunks_done + job.chunks_failed;
      fill(state, `${job.from} → ${job.to}: ${job.chunks_done} of ${job.chunks_total} weeks done`,
        job.chunks_failed ? `, ${job.chunks_failed} failed` : '', job.status === 'running' ? ' …' : ` — ${job.status}, ${job.days_changed} user-days changed.`);
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

    const form = h('form', { class: 'controls', 'aria-label': 'Rebuild figures' }, field('From', from), field('To', to), start);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      start.disabled = true;
      try {
        const job = await post<Job>(`/api/schools/${school.id}/rebuild-figures`, { from: from.value, to: to.value });
        ctx.notify(`Rebuild of ${school.name} started.`);
        show(job);
        await follow(job.id);
      } catch (err) {
        ctx.notify((err as Error).message, 'error');
        start.disabled = false;
      }
    });
    panel.append(h('h2', { class: 'view-title' }, `Rebuild the figures of ${school.name}`),
      h('p', { class: 'muted' }, 'Recomputes every user-day of the range from the stored check-ins, one week per job, in parallel.'),
      form, result);
    return {
      async refresh() { /* progress is followed on its own timer */ },
      destroy() { if (timer) clearTimeout(timer); },
    };
  },
};

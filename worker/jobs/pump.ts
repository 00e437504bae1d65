// Drives pg-boss `fetch()` itself: up to `concurrency` jobs in flight, a new fetch as soon as
// a slot frees, a short sleep only when the queue is empty, cut short by `wake()` when a job is
// sent (db/job-notifications.ts). pg-boss's `work()` waits its polling interval after a fetch
// unless a notification arrived meanwhile, so a backlog drains one job per interval per worker.
// Jobs in hand get a heartbeat (`touch`) every `heartbeatSeconds / 2`: on a queue with
// `heartbeatSeconds`, pg-boss retries a job whose worker died as soon as its heartbeat stops.
import type { Job, PgBoss } from '../../db/queue.js';
import type { Logger } from '../../shared/logger.js';

export interface Pump {
  queue: string;
  /** A job may be waiting: fetch now rather than after the nap (remembered if not napping). */
  wake(): void;
  stop(): Promise<void>;
}

export function startPump<T extends object>(boss: PgBoss, queue: string,
  opts: { concurrency: number; idleMs: number; logger: Logger; heartbeatSeconds?: number },
  handle: (job: Job<T>) => Promise<unknown>): Pump {
  let running = true;
  let inFlight = 0;
  const inHand = new Set<string>();
  const heartbeat = opts.heartbeatSeconds ? setInterval(() => {
    if (inHand.size === 0) return;
    boss.touch(queue, [...inHand]).catch((err: unknown) => opts.logger.warn({ queue, err: (err as Error).message }, 'heartbeat failed'));
  }, opts.heartbeatSeconds * 500) : null;
  heartbeat?.unref();
  let wake: (() => void) | null = null;
  // A wake-up that came while fetching: that fetch may have run before the job was visible.
  let woken = false;
  const nap = (ms: number) => new Promise<void>((resolve) => {
    if (woken) {
      woken = false;
      resolve();
      return;
    }
    const timer = setTimeout(() => { wake = null; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = null; resolve(); };
  });
  const poke = () => {
    if (wake) wake();
    else woken = true;
  };

  // Jobs finished while a completion is on its way are completed together, in one statement
  // per distinct output: under load one `complete` per job was one statement of every sync.
  // A job whose completion is lost (crash) is fetched again and finds its work done (the
  // handlers are idempotent: an import checks processed_at under the session's lock).
  const completing: Array<{ id: string; output: unknown; done: (err?: unknown) => void }> = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    while (completing.length > 0) {
      const groups = new Map<string, typeof completing>();
      for (const c of completing.splice(0)) {
        const key = JSON.stringify(c.output ?? null);
        const group = groups.get(key);
        if (group) group.push(c);
        else groups.set(key, [c]);
      }
      for (const [key, group] of groups) {
        try {
          await boss.complete(queue, group.map((c) => c.id), { output: JSON.parse(key) });
          for (const c of group) c.done();
        } catch (err) {
          for (const c of group) c.done(err);
        }
      }
    }
    flushing = false;
  };
  const complete = (id: string, output: unknown) => new Promise<void>((resolve, reject) => {
    completing.push({ id, output, done: (err) => (err === undefined ? resolve() : reject(err)) });
    if (!flushing) void flush();
  });

  const run = async (job: Job<T>) => {
    const started = Date.now();
    inHand.add(job.id);
    try {
      const output = await handle(job);
      await complete(job.id, output);
      // At debug: every import and every minute's sweep would otherwise fill `npm start`'s terminal.
      opts.logger.debug({ queue, jobId: job.id, ms: Date.now() - started }, 'job done');
    } catch (err) {
      opts.logger.error({ queue, jobId: job.id, ms: Date.now() - started, err }, 'job failed');
      await boss.fail(queue, job.id, { message: String((err as Error)?.message ?? err) }).catch((e: unknown) => opts.logger.error({ err: e }, 'could not mark job failed'));
    } finally {
      inHand.delete(job.id);
      inFlight--;
      poke();
    }
  };

  const loop = (async () => {
    while (running) {
      const free = opts.concurrency - inFlight;
      if (free <= 0) {
        await nap(opts.idleMs * 10);
        continue;
      }
      woken = false;
      let jobs: Job<T>[] = [];
      try {
        jobs = await boss.fetch<T>(queue, { batchSize: free });
      } catch (err) {
        opts.logger.warn({ queue, err: (err as Error).message }, 'fetch failed; retrying');
      }
      if (jobs.length === 0) {
        await nap(opts.idleMs);
        continue;
      }
      for (const job of jobs) {
        inFlight++;
        void run(job);
      }
    }
  })();

  return {
    queue,
    wake: poke,
    async stop() {
      running = false;
      wake?.();
      await loop;
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
      if (heartbeat) clearInterval(heartbeat);
    },
  };
}

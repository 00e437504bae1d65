// A closed-loop load: `concurrency` callers, each sending its next request as soon as the
// previous one is answered, for `durationMs` after a warm-up that is not counted.
export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  latenciesMs: number[];
  failures: Record<string, number>;
  /** CPU seconds each process spent in the counted span, when `cpu` was given (else empty). */
  cpuSeconds: CpuReading;
}

/** CPU seconds by process (bench/cpu.ts). */
export type CpuReading = Record<string, number>;

/** `cpu`, when given, is read when the counted span starts and once it ends. */
export async function closedLoop(opts: { concurrency: number; durationMs: number; warmupMs: number; cpu?: () => CpuReading },
  request: (i: number) => Promise<string | null>): Promise<LoadResult> {
  const started = performance.now();
  const countFrom = started + opts.warmupMs;
  const end = countFrom + opts.durationMs;
  const result: LoadResult = { ok: 0, failed: 0, seconds: opts.durationMs / 1000, latenciesMs: [], failures: {}, cpuSeconds: {} };
  let before: CpuReading = {};
  const startReading = setTimeout(() => { before = opts.cpu?.() ?? {}; }, opts.warmupMs);
  let next = 0;
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      let failure: string | null;
      try {
        failure = await request(next++);
      } catch (err) {
        failure = (err as Error).message.slice(0, 80);
      }
      if (t < countFrom) continue;
      if (failure === null) {
        result.ok++;
        result.latenciesMs.push(performance.now() - t);
      } else {
        result.failed++;
        result.failures[failure] = (result.failures[failure] ?? 0) + 1;
      }
    }
  }));
  // Requests still running at `end` finished after it: count the real span.
  result.seconds = (performance.now() - countFrom) / 1000;
  clearTimeout(startReading);
  const after = opts.cpu?.() ?? {};
  for (const [name, seconds] of Object.entries(after)) result.cpuSeconds[name] = seconds - (before[name] ?? seconds);
  return result;
}

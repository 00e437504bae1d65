// Every queue the worker serves. Returns a function that stops taking new jobs.
import type { WorkerContext } from '../worker.js';

export async function registerJobs(_ctx: WorkerContext): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}

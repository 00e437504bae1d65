// How many inputs each property of the fuzz suite tries: FUZZ_RUNS (default below) in `npm test`,
// many more with `npm run fuzz`. A failure prints fast-check's seed and path: `FUZZ_SEED=<seed>
// FUZZ_PATH=<path>` replays exactly that input.
import type fc from 'fast-check';

export const RUNS = Number(process.env.FUZZ_RUNS ?? 1_500);

type RunParameters = Pick<fc.Parameters<never>, 'numRuns' | 'seed' | 'path' | 'endOnFailure'>;

/** The run count and the replay seed when given, for any property. */
export function runs(count = RUNS): RunParameters {
  return {
    numRuns: count,
    endOnFailure: true,
    ...(process.env.FUZZ_SEED && { seed: Number(process.env.FUZZ_SEED), path: process.env.FUZZ_PATH }),
  };
}

/** The same, with inputs that once broke something, tried first on every run. */
export function params<T>(examples: T[], count = RUNS): RunParameters & { examples: T[] } {
  return { ...runs(count), examples };
}

// A small seeded PRNG (mulberry32): the same seed gives the same school days, everywhere.
export interface Random {
  /** [0, 1) */
  next(): number;
  chance(p: number): boolean;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** Roughly normal (sum of three uniforms), mean 0, standard deviation ≈ 1. */
  normal(): number;
}

export function seededRandom(seed: number): Random {
  let a = (seed >>> 0) || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p) => next() < p,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    normal: () => (next() + next() + next() - 1.5) * 2,
  };
}

/** A seed for one part of the run (a day, a device) derived from the run's seed, so parts do not shift each other. */
export function subSeed(seed: number, ...parts: Array<string | number>): number {
  let h = 2166136261 ^ seed;
  for (const c of parts.join('/')) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

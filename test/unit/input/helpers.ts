// Shared by the input tests: archive limits matching fixtures/README.md, fixture loading, and
// collecting an async iterable.

import { readFileSync } from 'node:fs';
import type { ArchiveLimits } from '../../../shared/archive/inspect-archive.js';
import { Problem } from '../../../shared/errors.js';

export const TEST_LIMITS: ArchiveLimits = {
  maxEntries: 20,
  maxTotalUncompressed: 64 << 20,
  maxEntryUncompressed: 32 << 20,
  maxRatio: 200,
};

const ARCHIVES = new URL('../../../fixtures/archives/', import.meta.url);

export function fixture(name: string): Buffer {
  return readFileSync(new URL(name, ARCHIVES));
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The Problem `fn` throws (fails the test if it throws anything else or nothing). */
export function problemOf(fn: () => unknown): Problem {
  try {
    fn();
  } catch (err) {
    if (err instanceof Problem) return err;
    throw err;
  }
  throw new Error('expected a Problem to be thrown');
}

import fs from 'node:fs/promises';
import type { EmbeddedDatabase } from '../../db/embedded.js';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__EMBEDDED_PG__ as { embedded: EmbeddedDatabase; dir: string } | undefined;
  if (!state) return;
  await state.embedded.stop();
  await fs.rm(state.dir, { recursive: true, force: true });
}

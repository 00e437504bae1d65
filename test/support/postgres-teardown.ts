import fs from 'node:fs/promises';
import type { EmbeddedDatabase } from '../../db/embedded.js';
import type { PgBouncer } from '../../db/pgbouncer.js';

export default async function globalTeardown(): Promise<void> {
  const pooler = (globalThis as Record<string, unknown>).__PGBOUNCER__ as { pooler: PgBouncer; dir: string } | undefined;
  if (pooler) {
    await pooler.pooler.stop();
    await fs.rm(pooler.dir, { recursive: true, force: true });
  }
  const state = (globalThis as Record<string, unknown>).__EMBEDDED_PG__ as { embedded: EmbeddedDatabase; dir: string } | undefined;
  if (!state) return;
  await state.embedded.stop();
  await fs.rm(state.dir, { recursive: true, force: true });
}

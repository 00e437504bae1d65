// Jest loads global setup without its transform; tsx loads the TypeScript modules instead.
// Suites spawn the compiled processes (test/support/processes.ts): dist/ is rebuilt first when
// the sources changed, and so is the dashboard (web/dist), so a test never runs stale code.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { ensureServerBuilt } = await tsImport('../../tools/build.ts', import.meta.url);
  const { ensureDashboardBuilt } = await tsImport('../../web/build.ts', import.meta.url);
  const { ensureMobileAppBuilt } = await tsImport('../../app/build.ts', import.meta.url);
  const { default: setup } = await tsImport('./postgres-setup.ts', import.meta.url);
  await Promise.all([ensureServerBuilt(), ensureDashboardBuilt(), ensureMobileAppBuilt(), setup()]);
}

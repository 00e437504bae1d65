// Jest loads global setup without its transform; tsx loads the TypeScript module instead.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const { default: setup } = await tsImport('./postgres-setup.ts', import.meta.url);
  await setup();
}

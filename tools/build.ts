// `npm run build`: the server compiled to plain JavaScript in dist/ (runtime/compiled.ts), then
// the dashboard (web/build.ts) and the reference app for schools (app/build.ts). Run at `npm install` (postinstall) and in the Docker image.
// Processes run dist/ with plain `node` because TypeScript compiled at run time costs memory in
// every process: an idle worker under tsx holds ~138 MiB, the same code compiled ~93 MiB
// (tsx's loader thread and its module cache). esbuild transpiles file by file, without bundling
// (the sources are isolatedModules), so dist/ has the sources' layout; `npm run typecheck` and
// `npm test` check the types.
// `--if-stale` builds only what changed since the last build (a stamp of the sources' contents):
// `npm start`, the tests and the benches call it, so they always run the current sources.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { COMPILED_DIR, PROJECT_ROOT } from '../runtime/compiled.js';
import { buildMobileApp, ensureMobileAppBuilt } from '../app/build.js';
import { buildDashboard, ensureDashboardBuilt } from '../web/build.js';

/** What runs as a process, and everything it imports. Tests, benches and tools stay TypeScript run by tsx or jest. */
// sdk/src: the simulator's v4 devices run on the device SDK.
const SOURCE_DIRS = ['api', 'bin', 'channels', 'db', 'runtime', 'sdk/src', 'shared', 'simulator', 'worker'];
// The accept and push benches' anchors run as processes beside the api, so they run compiled like the api.
// The image's build context has no bench/ (.dockerignore): they are compiled only where bench/ is
// (test/ops/image.test.ts builds the image's context without it).
const BENCH_FILES = ['bench/anchors/minimal-upload.ts', 'bench/anchors/floor-upload.ts', 'bench/anchors/push-ok.ts'];
const STAMP = '.stamp';

async function sources(): Promise<string[]> {
  const hasBench = await fs.stat(path.join(PROJECT_ROOT, 'bench')).then(() => true, () => false);
  const files = hasBench ? [...BENCH_FILES] : [];
  for (const dir of SOURCE_DIRS) {
    const entries = await fs.readdir(path.join(PROJECT_ROOT, dir), { withFileTypes: true, recursive: true });
    for (const e of entries) if (e.isFile() && e.name.endsWith('.ts')) files.push(path.relative(PROJECT_ROOT, path.join(e.parentPath, e.name)));
  }
  return files.sort();
}

/** A hash of everything dist/ depends on: the sources, this script and esbuild's version. */
async function sourceStamp(files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...files, path.relative(PROJECT_ROOT, fileURLToPath(import.meta.url))]) {
    hash.update(file).update('\0').update(await fs.readFile(path.join(PROJECT_ROOT, file))).update('\0');
  }
  return hash.update(esbuild.version).digest('hex');
}

export async function buildServer(): Promise<{ files: number }> {
  const files = await sources();
  const stamp = await sourceStamp(files);
  // Written beside dist/ and swapped in whole, so that no file of an earlier build is left behind.
  const tmp = `${COMPILED_DIR}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await esbuild.build({
      entryPoints: files.map((f) => path.join(PROJECT_ROOT, f)),
      outbase: PROJECT_ROOT,
      outdir: tmp,
      bundle: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Stack traces name dist/ lines; `node --enable-source-maps` maps them back to the sources.
      sourcemap: 'linked',
      logLevel: 'silent',
    });
    await fs.writeFile(path.join(tmp, STAMP), stamp);
    const old = `${tmp}.old`;
    await fs.rename(COMPILED_DIR, old).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
    await fs.rename(tmp, COMPILED_DIR);
    await fs.rm(old, { recursive: true, force: true });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return { files: files.length };
}

/** Builds dist/ when it is missing or older than the sources; answers whether it built. */
export async function ensureServerBuilt(): Promise<boolean> {
  const [stamp, built] = await Promise.all([
    sources().then(sourceStamp),
    fs.readFile(path.join(COMPILED_DIR, STAMP), 'utf8').catch(() => null),
  ]);
  if (stamp === built) return false;
  await buildServer();
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = Date.now();
  if (process.argv.includes('--if-stale')) {
    const [server, dashboard, app] = [await ensureServerBuilt(), await ensureDashboardBuilt(), await ensureMobileAppBuilt()];
    if (server || dashboard || app) process.stdout.write(`rebuilt ${[server && 'dist/', dashboard && 'web/dist/', app && 'app/dist/'].filter(Boolean).join(' and ')} in ${Date.now() - started} ms\n`);
  } else {
    const { files } = await buildServer();
    await buildDashboard();
    const app = await buildMobileApp();
    process.stdout.write(`built in ${Date.now() - started} ms: dist/ (${files} files), web/dist/, app/dist/ (precache ${app.precache.length} files, ${Math.round(app.precacheBytes / 1024)} KiB)\n`);
  }
}

// The reference app for schools (app/src) built into app/dist: the app bundled by esbuild
// (content-hashed main-*.js and main-*.css, named by index.html), the files of app/public (the
// web app manifest and its icons) and the service worker sw.js, which precaches all of them
// through workbox-precaching. The precache manifest is injected the way workbox's
// injectManifest does: every file with a revision (null for content-hashed names, whose name
// is their revision), in place of `self.__WB_MANIFEST`. Built by `npm run build` (also at
// `npm install`, `npm start` and before the tests: tools/build.ts) when app/dist is missing or
// older than its sources; the api serves it at /app/ (api/mobile-app.ts). As web/build.ts,
// each file is written to a temporary name and renamed, index.html and sw.js last.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { MOBILE_APP_DIR as DIST_DIR, PROJECT_ROOT } from '../runtime/compiled.js';

const appDir = path.join(PROJECT_ROOT, 'app');
const SRC_DIR = path.join(appDir, 'src');
const PUBLIC_DIR = path.join(appDir, 'public');
const STAMP = '.stamp';
/** Sources outside app/ that the app bundles: the device SDK, and the lockfile for the packages' versions. */
const OUTSIDE = [path.join(PROJECT_ROOT, 'sdk', 'src'), path.join(PROJECT_ROOT, 'shared', 'devices'), path.join(PROJECT_ROOT, 'package-lock.json')];
const TARGET = ['chrome111', 'firefox115', 'safari16'];

async function filesUnder(dir: string): Promise<string[]> {
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat) return [];
  if (stat.isFile()) return [dir];
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

async function sourceStamp(): Promise<string> {
  const hash = createHash('sha256');
  const files = [SRC_DIR, PUBLIC_DIR, path.join(appDir, 'build.ts'), ...OUTSIDE];
  for (const file of (await Promise.all(files.map(filesUnder))).flat()) {
    hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(await fs.readFile(file)).update('\0');
  }
  return hash.update(esbuild.version).digest('hex');
}

async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, contents);
  await fs.rename(tmp, file);
}

const revision = (contents: string | Uint8Array) => createHash('sha256').update(contents).digest('hex').slice(0, 16);

export interface PrecacheEntry { url: string; revision: string | null }

export async function buildMobileApp(): Promise<{ files: string[]; precache: PrecacheEntry[]; precacheBytes: number }> {
  const stamp = await sourceStamp();
  const define = { 'process.env.NODE_ENV': '"production"' };
  const app = await esbuild.build({
    entryPoints: { main: path.join(SRC_DIR, 'main.ts') },
    bundle: true, minify: true, sourcemap: 'linked', format: 'esm', target: TARGET,
    outdir: DIST_DIR, entryNames: '[name]-[hash]', assetNames: '[name]-[hash]',
    write: false, logLevel: 'silent', define,
  });
  await fs.mkdir(DIST_DIR, { recursive: true });
  const written: string[] = [];
  const precache: PrecacheEntry[] = [];
  let precacheBytes = 0;
  const keepFile = async (name: string, contents: string | Uint8Array, hashed: boolean) => {
    await writeAtomically(path.join(DIST_DIR, name), contents);
    written.push(name);
    if (name.endsWith('.map')) return;
    precache.push({ url: name, revision: hashed ? null : revision(contents) });
    precacheBytes += typeof contents === 'string' ? Buffer.byteLength(contents) : contents.byteLength;
  };
  for (const out of app.outputFiles) await keepFile(path.basename(out.path), out.contents, true);
  const script = written.find((f) => f.endsWith('.js'));
  const style = written.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error('app build produced no script or no stylesheet');
  for (const file of await filesUnder(PUBLIC_DIR)) await keepFile(path.relative(PUBLIC_DIR, file), await fs.readFile(file), false);
  const template = await fs.readFile(path.join(SRC_DIR, 'index.html'), 'utf8');
  const html = template.replace('{{STYLE}}', `./${style}`).replace('{{SCRIPT}}', `./${script}`);
  precache.push({ url: 'index.html', revision: revision(html) });
  precacheBytes += Buffer.byteLength(html);

  const worker = await esbuild.build({
    entryPoints: [path.join(SRC_DIR, 'sw.ts')],
    bundle: true, minify: true, format: 'iife', target: TARGET, write: false, logLevel: 'silent',
    define: { ...define, 'self.__WB_MANIFEST': JSON.stringify(precache) },
  });
  await writeAtomically(path.join(DIST_DIR, 'index.html'), html);
  await writeAtomically(path.join(DIST_DIR, 'sw.js'), worker.outputFiles[0].contents);
  await writeAtomically(path.join(DIST_DIR, STAMP), stamp);
  const keep = new Set([...written, 'index.html', 'sw.js', STAMP]);
  for (const name of await fs.readdir(DIST_DIR)) {
    if (!keep.has(name) && !name.endsWith('.tmp')) await fs.rm(path.join(DIST_DIR, name), { force: true });
  }
  return { files: [...written, 'index.html', 'sw.js'], precache, precacheBytes };
}

/** Builds when app/dist is missing or stale; answers whether it built. */
export async function ensureMobileAppBuilt(): Promise<boolean> {
  const [stamp, built] = await Promise.all([sourceStamp(), fs.readFile(path.join(DIST_DIR, STAMP), 'utf8').catch(() => null)]);
  const hasWorker = await fs.access(path.join(DIST_DIR, 'sw.js')).then(() => true, () => false);
  if (built === stamp && hasWorker) return false;
  await buildMobileApp();
  return true;
}

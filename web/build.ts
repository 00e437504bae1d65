// The dashboard's static files: web/src bundled by esbuild into web/dist (content-hashed
// app-*.js and app-*.css, and an index.html naming them). Built by `npm run build` (also at
// `npm install` and `npm start`, tools/build.ts, and before the tests) when web/dist is missing
// or older than its sources (a stamp of their contents). The api only serves it
// (api/dashboard.ts; runtime/compiled.ts says where). Two builds may run at once: each file is written to a
// temporary name and renamed, index.html last, so a reader never sees a half-written file.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { DASHBOARD_DIR as DIST_DIR, PROJECT_ROOT } from '../runtime/compiled.js';

const webDir = path.join(PROJECT_ROOT, 'web');
const SRC_DIR = path.join(webDir, 'src');
const STAMP = '.stamp';
/** Files outside web/src that the dashboard bundles: a change to them must rebuild it too. */
const SHARED_SOURCES = [path.join(PROJECT_ROOT, 'shared', 'csv', 'formula-escape.ts')];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort();
}

/** A hash of everything the output depends on: the sources, this script and the bundled packages' versions. */
async function sourceStamp(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...(await filesUnder(SRC_DIR)), path.join(webDir, 'build.ts'), ...SHARED_SOURCES]) {
    hash.update(path.relative(webDir, file)).update('\0').update(await fs.readFile(file)).update('\0');
  }
  hash.update(esbuild.version);
  const uplot = JSON.parse(await fs.readFile(path.join(webDir, '..', 'node_modules', 'uplot', 'package.json'), 'utf8').catch(() => '{}')) as { version?: string };
  hash.update(uplot.version ?? '');
  return hash.digest('hex');
}

/**
 * `import all from 'virtual:locales'` (web/src/i18n.ts): every language file in web/src/locales,
 * so that adding a language is adding a file.
 */
const localesPlugin: esbuild.Plugin = {
  name: 'locales',
  setup(build) {
    build.onResolve({ filter: /^virtual:locales$/ }, () => ({ path: 'locales', namespace: 'locales' }));
    build.onLoad({ filter: /.*/, namespace: 'locales' }, async () => {
      const dir = path.join(SRC_DIR, 'locales');
      const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
      return {
        resolveDir: dir,
        contents: files.map((f, i) => `import l${i} from './${f}';`).join('\n') + `\nexport default [${files.map((_, i) => `l${i}`).join(', ')}];\n`,
      };
    });
  },
};

async function writeAtomically(file: string, contents: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, contents);
  await fs.rename(tmp, file);
}

export async function buildDashboard(): Promise<{ files: string[] }> {
  const stamp = await sourceStamp();
  const result = await esbuild.build({
    entryPoints: { app: path.join(SRC_DIR, 'app', 'main.ts') },
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari16'],
    outdir: DIST_DIR,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [localesPlugin],
  });
  await fs.mkdir(DIST_DIR, { recursive: true });
  const written: string[] = [];
  for (const out of result.outputFiles) {
    await writeAtomically(out.path, out.contents);
    written.push(path.basename(out.path));
  }
  const script = written.find((f) => f.endsWith('.js'));
  const style = written.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error('dashboard build produced no script or no stylesheet');
  const template = await fs.readFile(path.join(SRC_DIR, 'index.html'), 'utf8');
  const html = template.replace('{{STYLE}}', `/${style}`).replace('{{SCRIPT}}', `/${script}`);
  await writeAtomically(path.join(DIST_DIR, 'index.html'), html);
  await writeAtomically(path.join(DIST_DIR, STAMP), stamp);
  // Hashed files of earlier builds are no longer named by index.html.
  const keep = new Set([...written, 'index.html', STAMP]);
  for (const name of await fs.readdir(DIST_DIR)) {
    if (!keep.has(name) && !name.endsWith('.tmp')) await fs.rm(path.join(DIST_DIR, name), { force: true });
  }
  return { files: [...written, 'index.html'] };
}

/** Builds when web/dist is missing or stale; answers whether it built. */
export async function ensureDashboardBuilt(): Promise<boolean> {
  const [stamp, built] = await Promise.all([
    sourceStamp(),
    fs.readFile(path.join(DIST_DIR, STAMP), 'utf8').catch(() => null),
  ]);
  const hasIndex = await fs.access(path.join(DIST_DIR, 'index.html')).then(() => true, () => false);
  if (built === stamp && hasIndex) return false;
  await buildDashboard();
  return true;
}

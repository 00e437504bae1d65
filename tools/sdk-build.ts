// `npm run sdk:build`: the device SDK as an npm package in sdk/dist (sdk/README.md): one ESM bundle
// per entry point (`.`, `./memory`, `./indexeddb`; dependencies left to the app's bundler), the
// type declarations (tsc --emitDeclarationOnly, checked without Node's types so that nothing
// Node-only slips in), and the size an app pays: each entry minified and gzipped, alone and with
// its dependencies bundled in. `--json` prints the sizes as JSON (test/sdk/package.test.ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { PROJECT_ROOT } from '../runtime/compiled.js';

const SDK = path.join(PROJECT_ROOT, 'sdk');
const ENTRIES = { index: 'src/index.ts', memory: 'src/adapters/memory.ts', indexeddb: 'src/adapters/indexeddb.ts' };
const DEPENDENCIES = ['fflate', 'zod', 'dexie'];

export interface SdkSizes {
  /** Bytes, minified then gzipped: the SDK's own code per entry (dependencies external). */
  own: Record<string, number>;
  /** What an app that uses the core and IndexedDB ships: both entries with their dependencies, minified and gzipped. */
  appWithDependencies: number;
}

async function bundle(entryPoints: string[], opts: { outdir?: string; external: boolean; minify: boolean }): Promise<esbuild.OutputFile[]> {
  const result = await esbuild.build({
    absWorkingDir: SDK, entryPoints, bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', mainFields: ['module', 'main'],
    minify: opts.minify, write: false, outdir: opts.outdir ?? 'dist', external: opts.external ? DEPENDENCIES : [], splitting: opts.external, sourcemap: false,
    logLevel: 'error', legalComments: 'none',
  });
  return result.outputFiles;
}

export async function buildSdk(): Promise<SdkSizes> {
  const dist = path.join(SDK, 'dist');
  await fs.rm(dist, { recursive: true, force: true });
  await fs.mkdir(dist, { recursive: true });
  // The published files: readable ESM (an app's bundler minifies), shared code split into a chunk.
  for (const file of await bundle(Object.entries(ENTRIES).map(([name, src]) => `${src}`), { external: true, minify: false })) {
    const rel = path.relative(path.join(SDK, 'dist'), file.path).replace(/^(src\/)?(adapters\/)?/, '');
    await fs.mkdir(path.dirname(path.join(dist, rel)), { recursive: true });
    await fs.writeFile(path.join(dist, rel), file.contents);
  }
  execFileSync(path.join(PROJECT_ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(SDK, 'tsconfig.json')], { stdio: 'inherit' });

  const own: Record<string, number> = {};
  for (const [name, src] of Object.entries(ENTRIES)) {
    const [out] = await bundle([src], { external: true, minify: true });
    own[name] = gzipSync(out.contents, { level: 9 }).length;
  }
  // An app importing SyncClient and indexedDbStorage: one bundle, everything in.
  const app = await esbuild.build({
    absWorkingDir: SDK, bundle: true, format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], minify: true, write: false, logLevel: 'error', legalComments: 'none',
    stdin: { contents: "export { SyncClient, startScheduler, parseEnrolUri } from './src/index.ts'; export { indexedDbStorage } from './src/adapters/indexeddb.ts';", resolveDir: SDK, loader: 'ts' },
  });
  return { own, appWithDependencies: gzipSync(app.outputFiles[0].contents, { level: 9 }).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await buildSdk();
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(sizes)}\n`);
  else {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    process.stdout.write(`sdk/dist written. Minified + gzipped: core ${kb(sizes.own.index)}, memory ${kb(sizes.own.memory)}, indexeddb ${kb(sizes.own.indexeddb)} (own code);`
      + ` an app with the core, IndexedDB and every dependency: ${kb(sizes.appWithDependencies)}\n`);
  }
}

// The SDK as a package: `npm run sdk:build` writes an ESM bundle per entry point and the type
// declarations, the bundles import nothing but the package's declared dependencies (no server
// code, no Node module), and the size an app pays is reported.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@jest/globals';
import { buildSdk } from '../../tools/sdk-build.js';
import { ROOT } from '../support/processes.js';

test('sdk:build writes the bundles and declarations the package.json exports, importing only its dependencies', async () => {
  const sizes = await buildSdk();
  const sdk = path.join(ROOT, 'sdk');
  const pkg = JSON.parse(fs.readFileSync(path.join(sdk, 'package.json'), 'utf8'));
  expect(pkg.name).toBe('@attendance-sync/device-sdk');
  for (const entry of ['.', './memory', './indexeddb']) {
    const { types, default: js } = pkg.exports[entry];
    expect(fs.existsSync(path.join(sdk, types))).toBe(true);
    const code = fs.readFileSync(path.join(sdk, js), 'utf8');
    const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1].replace(/\/mini$/, ''));
    for (const spec of imports) expect(Object.keys(pkg.dependencies)).toContain(spec);
  }
  // The root package installs what the SDK depends on, at the same ranges.
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const [dep, range] of Object.entries(pkg.dependencies)) expect([dep, root.dependencies[dep]]).toEqual([dep, range]);
  const declarations = fs.readFileSync(path.join(sdk, pkg.exports['.'].types), 'utf8');
  expect(declarations).toContain('SyncClient');

  process.stdout.write(`\n[sdk size] minified + gzipped: core ${sizes.own.index} B, memory ${sizes.own.memory} B, indexeddb ${sizes.own.indexeddb} B;`
    + ` an app with the core, IndexedDB storage and all dependencies: ${sizes.appWithDependencies} B\n`);
  expect(sizes.own.index).toBeGreaterThan(1000);
}, 120_000);

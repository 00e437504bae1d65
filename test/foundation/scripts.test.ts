// One way to run each process: package.json's scripts run the compiled files with the options
// that bin/start.ts, the tests and the benches use too (runtime/compiled.ts).
import { expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { nodeArgs, processEnv, PROJECT_ROOT } from '../../runtime/compiled.js';

const scripts = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

test.each([
  ['api', 'api/main.ts'],
  ['worker', 'worker/main.ts'],
  ['migrate', 'db/startup/migrate-cli.ts'],
  ['simulate', 'simulator/cli.ts'],
])('npm run %s is node %s compiled', (script, source) => {
  const args = nodeArgs(source).map((arg) => (path.isAbsolute(arg) ? path.relative(PROJECT_ROOT, arg) : arg));
  const env = Object.entries(processEnv(source)).map(([name, value]) => `${name}=${value}`);
  expect(scripts[script]).toBe([...env, 'node', ...args].join(' '));
});

test('npm start checks the Node version, rebuilds what changed, then runs the compiled supervisor', () => {
  expect(scripts.start).toBe('node tools/require-node.mjs && tsx tools/build.ts --if-stale && node dist/bin/start.js');
  expect(nodeArgs('bin/start.ts')).toEqual([path.join(PROJECT_ROOT, 'dist/bin/start.js')]);
});

test('npm scripts run on the Node 24 that npm install put in node_modules/.bin, whatever the system Node', () => {
  // `npm test` runs jest through node_modules/.bin, so this process is what the scripts get.
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  const bin = fs.realpathSync(path.join(PROJECT_ROOT, 'node_modules/.bin/node'));
  expect(bin).toBe(fs.realpathSync(process.execPath));
});

test('a Node older than 22.12 is refused with a line that says what to do', () => {
  // The check as a Node 20 would run it: process.versions says 20.20.2.
  const asNode20 = "import { pathToFileURL } from 'node:url'; Object.defineProperty(process.versions, 'node', { value: '20.20.2' }); await import(pathToFileURL(process.argv[1]).href)";
  const old = spawnSync(process.execPath, ['--input-type=module', '-e', asNode20, path.join(PROJECT_ROOT, 'tools/require-node.mjs')], { encoding: 'utf8' });
  expect(old.status).toBe(1);
  expect(old.stderr).toMatch(/Node.js 20.20.2 is too old: this project runs on Node 24.*npm install/);
});

// One way to run each process: package.json's scripts run the compiled files with the options
// that bin/start.ts, the tests and the benches use too (shared/compiled.ts).
import { expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { nodeArgs, PROJECT_ROOT } from '../../shared/compiled.js';

const scripts = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

test.each([
  ['api', 'api/main.ts'],
  ['worker', 'worker/main.ts'],
  ['migrate', 'db/migrate-cli.ts'],
  ['simulate', 'simulator/cli.ts'],
])('npm run %s is node %s compiled', (script, source) => {
  const args = nodeArgs(source).map((arg) => (path.isAbsolute(arg) ? path.relative(PROJECT_ROOT, arg) : arg));
  expect(scripts[script]).toBe(['node', ...args].join(' '));
});

test('npm start rebuilds what changed, then runs the compiled supervisor', () => {
  expect(scripts.start).toBe('tsx tools/build.ts --if-stale && node dist/bin/start.js');
  expect(nodeArgs('bin/start.ts')).toEqual([path.join(PROJECT_ROOT, 'dist/bin/start.js')]);
});

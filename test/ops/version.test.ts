// One version for the product: package.json's, shared/version.ts's (what /healthz and the
// processes' first log lines say), CHANGELOG.md's latest heading and the image tag's default.
import { expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { VERSION } from '../../shared/version.js';
import { ROOT } from '../support/processes.js';

test('package.json, shared/version.ts, CHANGELOG.md and docker-compose.yml name the same version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { version: string };
  const changelog = fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
  const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  expect(VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  expect(pkg.version).toBe(VERSION);
  expect(lock.version).toBe(VERSION);
  expect(/^## (\S+)/m.exec(changelog)?.[1]).toBe(VERSION);
  expect(new Set([...compose.matchAll(/\$\{APP_VERSION:-([^}]+)\}/g)].map((m) => m[1]))).toEqual(new Set([VERSION]));
});

// The containers' healthcheck (bin/healthcheck.ts, docker-compose.yml): healthy answers 0 and
// clears the count of failures; each failure counts one more (the fifth in a row stops the
// process: not reached here, since outside a container it would look for processes machine-wide).
import { afterAll, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, runScript } from '../support/processes.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-health-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function check(role: string, port: number): Promise<number | null> {
  const proc = runScript('bin/healthcheck.ts', { PORT: String(port), TMPDIR: tmp }, { args: [role] });
  return (await proc.waitForExit(20_000)).code;
}

test('api: 0 while /healthz answers 200, 1 (counted) while it does not, the count cleared once healthy again', async () => {
  const port = Number(new URL(suite.url).port);
  const failures = path.join(tmp, 'attendance-api.health-failures');
  expect(await check('api', port)).toBe(0);
  const closed = await freePort();
  expect(await check('api', closed)).toBe(1);
  expect(await check('api', closed)).toBe(1);
  expect(fs.readFileSync(failures, 'utf8')).toBe('2');
  expect(await check('api', port)).toBe(0);
  expect(fs.existsSync(failures)).toBe(false);
});

test('worker: 1 without a fresh heartbeat, 0 with one; a role it does not know is a usage error', async () => {
  const heartbeat = path.join(tmp, 'attendance-worker.alive');
  expect(await check('worker', 0)).toBe(1);
  fs.writeFileSync(heartbeat, String(Date.now()));
  expect(await check('worker', 0)).toBe(0);
  fs.writeFileSync(heartbeat, String(Date.now() - 120_000)); // two minutes old
  expect(await check('worker', 0)).toBe(1);
  expect(await check('db', 0)).toBe(64);
});

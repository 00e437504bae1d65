// Issue #33: the refusals themselves were the bomb — the worker held an object per refused row,
// then the package's XML as one string, and ran out of memory. Here a worker process whose
// JavaScript heap is capped (--max-old-space-size) far below what holding them took imports a
// batch of 400,000 rows naming another school's pupils: with the rejections written to the
// table as they come and the package written from it, it finishes, and the package reports
// every row. (The peak RSS itself is the bench's: `npm run bench -- refusals`.)
import { afterAll, expect, test } from '@jest/globals';
import { batchZip, deviceXml, readPackage, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, someUsers } from '../support/fixtures.js';
import { killIfRunning, runScript, type RunningProcess } from '../support/processes.js';
import { manyRowsCsv } from './helpers.js';
import { useSuite } from '../support/suite.js';

const ROWS = 400_000;
/** MiB of V8 old space: the worker idles at ~40 MiB live; holding 400,000 refusals took several hundred. */
const HEAP_MIB = 128;

const suite = useSuite(); // the api only: the worker is a process started below
let worker: RunningProcess | null = null;

afterAll(async () => {
  if (worker) await killIfRunning(worker);
});

test(`a worker with a ${HEAP_MIB} MiB heap imports a batch of ${ROWS.toLocaleString('en')} refused rows and reports every one`, async () => {
  const school = await aSchool(suite.db);
  const other = await aSchool(suite.db);
  const foreign = (await someUsers(suite.db, other.id, 500)).map((u) => u.id);
  const dev = await new TestDevice(suite.url, await aDevice(suite.db, school.id)).signIn();
  const archive = batchZip({ 'device.xml': deviceXml(), 'attendances.csv': manyRowsCsv(ROWS, foreign) });

  worker = runScript('worker/main.ts', {
    DATABASE_URL: suite.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'debug' /* 'job done' is at debug */, NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}`,
  });
  await worker.waitForLine(/worker started/, 30_000);
  const up = await dev.upload(archive);
  expect(up.status).toBe(202);
  const ready = await Promise.race([
    dev.waitForStatus(2, 240_000),
    worker.exited.then((e) => { throw new Error(`the worker died during the import: ${JSON.stringify(e)}\n${worker!.stderr.slice(-10).join('\n')}`); }),
  ]);
  expect(ready.body.session_id).toBe(up.body.session_id);

  const pkg = readPackage((await dev.instructions()).body as Buffer);
  expect(pkg.all('import')).toEqual([{ file: 'attendances.csv', received: String(ROWS), accepted: '0', duplicates: '0', rejected: String(ROWS), high_water_mark: '0' }]);
  const rejections = pkg.all('rejection');
  expect(rejections).toHaveLength(ROWS);
  expect(rejections.every((r) => r.code === 'unknown_user')).toBe(true);
  const notOurs = expect.stringMatching(/^user_id \d+ is not a user of this school$/);
  expect(rejections[0]).toEqual({ file: 'attendances.csv', line: '2', record_id: '1', code: 'unknown_user', detail: notOurs });
  expect(rejections[ROWS - 1]).toEqual({ file: 'attendances.csv', line: String(ROWS + 1), record_id: String(ROWS), code: 'unknown_user', detail: notOurs });
  expect(worker.jsonLines().some((l) => l.msg === 'job done' && l.sessionId === up.body.session_id)).toBe(true);

  worker.child.kill('SIGTERM');
  expect((await worker.waitForExit(30_000)).code).toBe(0);
}, 300_000);

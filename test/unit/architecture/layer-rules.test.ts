// The layer rules of docs/ARCHITECTURE.md are ESLint rules (eslint.config.js); each is probed
// here with a file that breaks it, placed where it would break it, so that a rule loosened by
// mistake (or a hole like those of issue 26 §4) fails a test rather than going unseen.
// The probes are linted as text: no file is written, and no type information is needed.
import { describe, expect, test } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } }, rules: { '@typescript-eslint/no-floating-promises': 'off' } },
});

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map((m) => `${m.ruleId}`);
}

const PROBES: Array<[string, string, string, string]> = [
  ['shared/ imports db/', 'shared/lint-probe.ts', `import { ping } from '../db/database.js';\nexport const p = ping;\n`, 'import-x/no-restricted-paths'],
  ['shared/ imports runtime/ (process code)', 'shared/lint-probe.ts', `import { freePort } from '../runtime/free-port.js';\nexport const p = freePort;\n`, 'import-x/no-restricted-paths'],
  ['shared/ reads files', 'shared/csv/lint-probe.ts', `import fs from 'node:fs';\nexport const p = fs.readFileSync;\n`, 'no-restricted-imports'],
  ['shared/ opens a socket', 'shared/lint-probe.ts', `import { createServer } from 'net';\nexport const p = createServer;\n`, 'no-restricted-imports'],
  ['shared/ starts a process', 'shared/lint-probe.ts', `import { spawn } from 'node:child_process';\nexport const p = spawn;\n`, 'no-restricted-imports'],
  ['shared/ serves HTTP', 'shared/lint-probe.ts', `import http from 'node:http';\nexport const p = http.createServer;\n`, 'no-restricted-imports'],
  ['runtime/ imports db/', 'runtime/lint-probe.ts', `import { ping } from '../db/database.js';\nexport const p = ping;\n`, 'import-x/no-restricted-paths'],
  ['channels/ import runtime/', 'channels/kit/lint-probe.ts', `import { freePort } from '../../runtime/free-port.js';\nexport const p = freePort;\n`, 'import-x/no-restricted-paths'],
  ['db/ imports the api', 'db/lint-probe.ts', `import { createApp } from '../api/app.js';\nexport const p = createApp;\n`, 'import-x/no-restricted-paths'],
  ['channels/ import the worker', 'channels/kit/lint-probe.ts', `import { startWorker } from '../../worker/worker.js';\nexport const p = startWorker;\n`, 'import-x/no-restricted-paths'],
  ['the api imports the worker', 'api/lint-probe.ts', `import { startWorker } from '../worker/worker.js';\nexport const p = startWorker;\n`, 'import-x/no-restricted-paths'],
  ['the api imports channel import code', 'api/lint-probe.ts', `import { importerOf } from '../channels/importers.js';\nexport const p = importerOf;\n`, 'import-x/no-restricted-paths'],
  ['the api imports the PUSH import (worker code)', 'api/push/lint-probe.ts', `import * as s from '../../channels/push/session.js';\nexport const p = s;\n`, 'import-x/no-restricted-paths'],
  ['a channel description imports import code', 'channels/synchro/description.ts', `import * as k from '../kit/csv-log.js';\nexport const p = k;\n`, 'import-x/no-restricted-paths'],
  ['the api loads the dashboard\'s builder', 'api/lint-probe.ts', `import { buildDashboard } from '../web/build.js';\nexport const p = buildDashboard;\n`, 'import-x/no-restricted-paths'],
  ['the worker imports the api', 'worker/lint-probe.ts', `import { createApp } from '../api/app.js';\nexport const p = createApp;\n`, 'import-x/no-restricted-paths'],
  ['kysely imported outside db/', 'api/routes/lint-probe.ts', `import { sql } from 'kysely';\nexport const p = sql;\n`, 'no-restricted-imports'],
  ['kysely imported in shared/', 'shared/lint-probe.ts', `import { sql } from 'kysely';\nexport const p = sql;\n`, 'no-restricted-imports'],
  ['a query built on a Db handle outside db/', 'api/routes/lint-probe.ts',
    `import type { Db } from '../../db/database.js';\nexport const p = (db: Db) => db.selectFrom('devices').selectAll().execute();\n`, 'no-restricted-syntax'],
  ['a write built on a Trx handle in the worker', 'worker/jobs/lint-probe.ts',
    `import type { Trx } from '../../db/database.js';\nexport const p = (trx: Trx) => trx.deleteFrom('devices').execute();\n`, 'no-restricted-syntax'],
  ['the dashboard imports server code', 'web/src/lint-probe.ts', `import { createApp } from '../../api/app.js';\nexport const p = createApp;\n`, '@typescript-eslint/no-restricted-imports'],
  ['the device SDK imports the database layer', 'sdk/src/core/lint-probe.ts', `import { ping } from '../../../db/database.js';\nexport const p = ping;\n`, 'import-x/no-restricted-paths'],
  ['the device SDK imports shared/ code beyond the enrolment link', 'sdk/src/lint-probe.ts', `import { envToConfig } from '../../shared/config.js';\nexport const p = envToConfig;\n`, 'no-restricted-imports'],
  ['the device SDK reads files (it runs in browsers)', 'sdk/src/adapters/lint-probe.ts', `import fs from 'node:fs';\nexport const p = fs.readFileSync;\n`, 'no-restricted-imports'],
  ['the worker imports the device SDK', 'worker/lint-probe.ts', `import { SyncClient } from '../sdk/src/index.js';\nexport const p = SyncClient;\n`, 'import-x/no-restricted-paths'],
  ['a focused test', 'test/unit/lint-probe.test.ts', `import { test } from '@jest/globals';\ntest.only('x', () => undefined);\n`, 'jest/no-focused-tests'],
];

describe('each layer rule refuses the file that breaks it', () => {
  test.each(PROBES)('%s', async (_what, filePath, code, rule) => {
    expect(await problems(filePath, code)).toContain(rule);
  });

  test('and the same imports where the layers allow them pass', async () => {
    expect(await problems('worker/lint-probe.ts', `import { importerOf } from '../channels/importers.js';\nexport const p = importerOf;\n`)).toEqual([]);
    expect(await problems('sdk/src/lint-probe.ts', `import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';\nexport const p = parseEnrolUri;\n`)).toEqual([]);
    expect(await problems('simulator/lint-probe.ts', `import { SyncClient } from '../sdk/src/index.js';\nexport const p = SyncClient;\n`)).toEqual([]);
    expect(await problems('shared/lint-probe.ts', `import { createHash } from 'node:crypto';\nexport const p = createHash;\n`)).toEqual([]);
    expect(await problems('db/lint-probe.ts', `import { freePort } from '../runtime/free-port.js';\nexport const p = freePort;\n`)).toEqual([]);
    expect(await problems('runtime/lint-probe.ts', `import type { Logger } from '../shared/logger.js';\nimport fs from 'node:fs';\nexport const p = (l: Logger) => [l, fs];\n`)).toEqual([]);
    expect(await problems('db/repositories/lint-probe.ts', `import type { Db } from '../database.js';\nexport const p = (db: Db) => db.selectFrom('devices').selectAll().execute();\n`)).toEqual([]);
  });
});

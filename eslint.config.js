// ESLint (flat config), run by `npm run lint` in `npm test`. Few rules, each keeping a promise the
// code makes (docs/ARCHITECTURE.md): layers import one way, shared/ pure (no I/O modules), kysely only in db/, no focused test
// left behind, no promise dropped on the floor. Import paths are resolved the way TypeScript
// resolves them (`./x.js` is `./x.ts`), so a boundary is checked on the file really imported,
// not on how its path is spelt.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;
/** What drives the service from outside: may import anything, imported by nothing of the service. */
const DRIVERS = ['./bin', './bench', './simulator', './test', './tools', './fixtures'];
/** The worker's half of the channels: the api never loads it. channels/push/ is all worker code (PUSH imports, roster, deadlines). */
const CHANNEL_IMPORT_CODE = ['./channels/{kit/**,importers.ts,*/importer.ts,*/*-log.ts}', './channels/push/**'];
const CHANNEL_DESCRIPTIONS = ['./channels/description/**', './channels/registry.ts', './channels/*/description.ts'];

const LAYERS = 'Layers import one way: shared <- runtime; shared <- db <- channels <- worker; shared, db, channel descriptions <- api; runtime <- db, api, worker (docs/ARCHITECTURE.md).';
/** What a process does with its host (files, sockets, child processes, servers): runtime/, db/, api/, worker/ and the drivers, never shared/. */
const HOST_MODULES = ['child_process', 'cluster', 'dgram', 'dns', 'fs', 'fs/promises', 'http', 'http2', 'https', 'net', 'tls', 'worker_threads']
  .flatMap((name) => [name, `node:${name}`]);
const KYSELY = { name: 'kysely', message: 'Queries live in db/repositories; import Db/Trx from db/database.ts.' };

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'sdk/dist/**', 'app/dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', 'fixtures/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      // Type-aware (no-floating-promises): one TypeScript program for the repo, from tsconfig.json.
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${ROOT}/tsconfig.json` })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'import-x/no-restricted-paths': ['error', {
        basePath: ROOT,
        zones: [
          { target: './shared', from: ['./runtime', './db', './channels', './worker', './api', './web', ...DRIVERS], message: `shared/ is pure and imports only shared/. ${LAYERS}` },
          { target: './runtime', from: ['./db', './channels', './worker', './api', './web', ...DRIVERS], message: `runtime/ (process code) imports only shared/. ${LAYERS}` },
          { target: './db', from: ['./channels', './worker', './api', './web', ...DRIVERS], message: `db/ imports only shared/ and runtime/. ${LAYERS}` },
          { target: './channels', from: ['./runtime', './worker', './api', './web', ...DRIVERS], message: `channels/ imports only shared/ and db/. ${LAYERS}` },
          { target: CHANNEL_DESCRIPTIONS, from: CHANNEL_IMPORT_CODE, message: 'A channel description is what the api loads: it must not pull in import code.' },
          // The api serves web/dist (runtime/compiled.ts says where); it never loads the dashboard's sources or its builder (esbuild).
          { target: './api', from: ['./worker', './web', './app', './sdk', ...DRIVERS], message: `api/ imports shared/, runtime/, db/ and channel descriptions. ${LAYERS}` },
          { target: './api', from: CHANNEL_IMPORT_CODE, message: 'The api loads channel descriptions only (channels/registry.ts), never import code.' },
          { target: './worker', from: ['./api', './web', './app', ...DRIVERS], message: `worker/ imports shared/, runtime/, db/ and channels/. ${LAYERS}` },
          // The device SDK is a package of its own (sdk/README.md): it runs in browsers, so no server code at all.
          { target: './sdk', from: ['./api', './worker', './db', './runtime', './channels', './web', ...DRIVERS], message: 'sdk/ is a published package for browsers and Node: it imports only itself and pure shared/ files (shared/devices/enrol-uri.ts).' },
          { target: ['./api', './worker', './db', './runtime', './channels', './shared'], from: './sdk', message: 'The service does not depend on the device SDK (the simulator, the app and tests do).' },
        ],
      }],
    },
  },
  {
    // The service's code reaches the database through db/ only (repositories, Db/Trx types).
    // Tests and benches may read the database directly to check what the service wrote.
    files: ['api/**/*.ts', 'worker/**/*.ts', 'channels/**/*.ts', 'shared/**/*.ts', 'web/**/*.ts', 'simulator/**/*.ts', 'bin/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [KYSELY] }],
      // A Db or Trx handle builds queries without importing kysely: the builder's entry points are refused too.
      'no-restricted-syntax': ['error', {
        selector: 'CallExpression[callee.type="MemberExpression"][callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|mergeInto|replaceInto|selectNoFrom)$/]',
        message: 'Queries live in db/repositories: call a repository function with the Db/Trx handle.',
      }],
    },
  },
  {
    // shared/ is pure: no file, socket, server or child process (that is runtime/'s, db/'s or a process's).
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [KYSELY, ...HOST_MODULES.map((name) => ({ name, message: 'shared/ is pure: process, file and network code lives in runtime/ (or db/, api/, worker/).' }))],
      }],
    },
  },
  {
    // The device SDK runs in browsers and Node alike: no file, socket or process module, no database,
    // and of shared/ only what is pure and dependency-free (the enrolment link).
    files: ['sdk/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [KYSELY, ...HOST_MODULES.map((name) => ({ name, message: 'sdk/ runs in browsers: no Node host modules.' }))],
        patterns: [{ regex: '^(\\.\\./)+shared/(?!devices/enrol-uri\\.js$)', message: 'sdk/ imports only shared/devices/enrol-uri.ts from shared/ (the rest may pull Node-only code).' }],
      }],
    },
  },
  {
    // The dashboard is bundled for the browser: server code only as `import type` (erased by esbuild),
    // except shared/csv/formula-escape.ts: one pure rule both sides must apply alike.
    files: ['web/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./){2,}(api|worker|channels|db|shared/(?!csv/formula-escape\\.js$)|simulator|bin|bench|tools|test)',
          allowTypeImports: true,
          message: 'The dashboard imports server code as `import type` only.',
        }],
      }],
    },
  },
  {
    // The reference app (app/src) is bundled for the browser: it talks to the server through the
    // device SDK (sdk/src) only, and reads server code as `import type` at most.
    files: ['app/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./){2,}(api|worker|channels|db|shared|simulator|bin|bench|tools|test|web)/',
          allowTypeImports: true,
          message: 'The app reaches the server through the device SDK (sdk/src) only.',
        }],
      }],
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { jest },
    rules: { 'jest/no-focused-tests': 'error' },
  },
);

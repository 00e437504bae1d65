// Shared by the sync suites: fixture archives, raw uploads, and what a refused upload must
// leave behind (nothing), read from the tables.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { afterAll } from '@jest/globals';
import { killIfRunning, ROOT, runScript, type RunningProcess } from '../support/processes.js';
import { http, type HttpResult } from '../support/http.js';
import type { TestDevice } from '../support/device-client.js';

export function fixtureArchive(name: string): Buffer {
  return fs.readFileSync(path.join(ROOT, 'fixtures', 'archives', name));
}

/** A multipart upload with any field name, file name and content type (or no file at all). */
export function uploadForm(dev: TestDevice, parts: Array<{ field: string; data: Buffer | string; filename?: string; type?: string }>): Promise<HttpResult> {
  const form = new FormData();
  for (const p of parts) {
    if (p.filename === undefined) form.append(p.field, typeof p.data === 'string' ? p.data : p.data.toString('utf8'));
    else form.append(p.field, new Blob([new Uint8Array(Buffer.from(p.data))], { type: p.type ?? 'application/octet-stream' }), p.filename);
  }
  return http(dev.url, 'POST', `/v4/${dev.channel}/datas`, { token: dev.token, body: form });
}

/** A non-multipart body sent to datas. */
export function uploadRaw(dev: TestDevice, body: string | Buffer, contentType: string): Promise<HttpResult> {
  return fetchResult(`${dev.url}/v4/${dev.channel}/datas`, {
    method: 'POST', headers: { authorization: `Bearer ${dev.token}`, 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

async function fetchResult(url: string, init: RequestInit): Promise<HttpResult> {
  const res = await fetch(url, init);
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.text();
  return { status: res.status, headers: res.headers, body };
}

export async function sessionCount(db: Db, deviceId: string): Promise<number> {
  const row = await db.selectFrom('sync_sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('device_id', '=', deviceId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Import queue entries ever made: v4 sessions stored (a pending session is its import's queue
 * entry, worker/import/session-queue.ts; rows are never deleted) and pg-boss jobs of imports
 * (none since that queue; counted so that one appearing would show).
 */
export async function importJobCount(db: Db): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT (SELECT count(*) FROM pgboss.job WHERE name LIKE 'import%')::int
         + (SELECT count(*) FROM sync_sessions WHERE channel <> 'push')::int AS n`.execute(db);
  return row.rows[0].n;
}

/** A refused upload stored nothing: status 0 with no session, no session row, no job. */
export async function expectNothingStored(dev: TestDevice, db: Db, jobsBefore: number): Promise<void> {
  const status = await dev.status();
  if (status.status !== 200 || status.body.status !== 0 || status.body.session_id !== null) {
    throw new Error(`status changed after a refusal: ${JSON.stringify(status.body)}`);
  }
  const sessions = await sessionCount(db, dev.identity.id);
  if (sessions !== 0) throw new Error(`${sessions} session row(s) stored after a refusal`);
  const jobs = await importJobCount(db);
  if (jobs !== jobsBefore) throw new Error(`import jobs went from ${jobsBefore} to ${jobs} after a refusal`);
}

export async function attendanceCount(db: Db, deviceId?: string): Promise<number> {
  let q = db.selectFrom('attendances').select((eb) => eb.fn.countAll<number>().as('n'));
  if (deviceId) q = q.where('device_id', '=', deviceId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Polls until `check` gives a value (not undefined/false), failing after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `n` rows for `userIds`, two a day (checkin 08:00, checkout 16:00 UTC) going back from yesterday. */
export function manyRowsCsv(n: number, userIds: readonly number[], opts: { firstRecordId?: number; now?: Date } = {}): Buffer {
  const first = opts.firstRecordId ?? 1;
  const dayMs = 86_400_000;
  const today = Math.floor((opts.now ?? new Date()).getTime() / dayMs) * dayMs;
  const perUser = Math.ceil(n / userIds.length);
  const parts: string[] = ['record_id,user_id,type,occurred_at,temperature,photo\n'];
  for (let i = 0; i < n; i++) {
    const user = userIds[i % userIds.length];
    const k = Math.floor(i / userIds.length); // this user's k-th event
    const day = today - (Math.floor((perUser - 1 - k) / 2) + 1) * dayMs;
    const checkin = k % 2 === 0;
    const at = new Date(day + (checkin ? 8 : 16) * 3_600_000);
    parts.push(`${first + i},${user},${checkin ? 'checkin' : 'checkout'},${at.toISOString()},${checkin ? '36.6' : ''},\n`);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

/**
 * Worker processes (`npm run worker`, compiled) on a suite's database, killed after the suite:
 * `start(env)` runs one more and resolves once it has started. LOG_LEVEL=debug: the import's
 * `job done` lines, which some tests read, are at debug.
 */
export function useWorkerProcesses(databaseUrl: () => string, env: Record<string, string> = {}): { start(): Promise<RunningProcess> } {
  const workers: RunningProcess[] = [];
  afterAll(async () => {
    for (const w of workers) await killIfRunning(w);
  });
  return {
    async start() {
      const proc = runScript('worker/main.ts', { DATABASE_URL: databaseUrl(), NODE_ENV: 'test', LOG_LEVEL: 'debug', ...env });
      workers.push(proc);
      await proc.waitForLine(/worker started/, 30_000);
      return proc;
    },
  };
}

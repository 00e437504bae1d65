// What the PUSH suites share: a fresh serial number, a terminal registered by staff, and the wait
// for a terminal's sessions to be imported.
import { expect } from '@jest/globals';
import { PushTerminal } from '../../simulator/push-client.js';
import type { connectTestDatabase } from '../support/database.js';
import { http } from '../support/http.js';
import { waitFor } from '../sync/helpers.js';

let snCounter = 0;

/** A serial number no other test of the run uses: `prefix`, the time in base 36, a counter. */
export function nextSn(prefix: string): string {
  return `${prefix}${Date.now().toString(36).toUpperCase()}${++snCounter}`;
}

/** A PUSH terminal registered by staff (POST /api/push/terminals) in `schoolId`, and its client. */
export async function registeredTerminal(url: string, staffToken: string, schoolId: number, opts: { sn?: string; extra?: Record<string, unknown> } = {}) {
  const sn = opts.sn ?? nextSn('PT');
  const res = await http(url, 'POST', '/api/push/terminals', { token: staffToken, body: { serial_number: sn, school_id: schoolId, name: `Gate ${sn}`, ...opts.extra } });
  expect(res.status).toBe(201);
  return { terminal: new PushTerminal(url, sn), deviceId: res.body.id as string, sn };
}

/** Waits until the device has `sessions` PUSH sessions, all imported; answers their stats, by file (ATTLOG, rtlog). */
export async function importedSessions(db: ReturnType<typeof connectTestDatabase>['db'], deviceId: string, sessions: number) {
  return waitFor(async () => {
    const rows = await db.selectFrom('sync_sessions').select(['outcome', 'stats']).where('device_id', '=', deviceId).orderBy('received_at').execute();
    return rows.length === sessions && rows.every((r) => r.outcome === 'imported') ? rows.map((r) => r.stats!) : undefined;
  }, 15_000, 'PUSH sessions imported');
}

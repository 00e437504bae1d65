// What the load scenarios start from, written straight into the scenario's own database:
// schools, pupils and devices in bulk (one statement each), and device tokens signed with
// the bench's JWT secret, so that no sign-in traffic mixes with what is measured.
import { sql } from 'kysely';
import { deriveKeys, signDeviceToken } from '../api/auth/tokens.js';
import type { Db } from '../db/database.js';
import { generateDeviceSecret, hashDeviceSecret } from '../shared/auth/device-secret.js';
import type { Config } from '../shared/config.js';

export interface BenchSchool {
  id: number;
  userIds: number[];
}

export async function seedSchool(db: Db, name: string, users: number): Promise<BenchSchool> {
  const school = await db.insertInto('schools').values({ name, timezone: 'Europe/Paris' }).returning('id').executeTakeFirstOrThrow();
  const rows = await sql<{ id: number }>`INSERT INTO users (school_id, name, badge, enrolled_on)
    SELECT ${school.id}, 'Pupil ' || g, 'B' || g, '2025-08-25' FROM generate_series(1, ${users}) g RETURNING id`.execute(db);
  return { id: school.id, userIds: rows.rows.map((r) => Number(r.id)) };
}

export interface BenchDevice {
  id: string;
  schoolId: number;
  token: string;
  /** The devices' secret (one for all of them: hashing it once keeps the seeding fast), for scenarios that sign in. */
  secret: string;
}

/** `count` devices of the school, with tokens valid for `ttlSeconds`. */
export async function seedDevices(db: Db, config: Config, schoolId: number, count: number, ttlSeconds = 3600): Promise<BenchDevice[]> {
  // Tokens are minted below; a scenario that pays sign-ins as devices do uses the secret.
  const secret = generateDeviceSecret();
  const hash = hashDeviceSecret(secret);
  const rows = await sql<{ id: string }>`INSERT INTO devices (school_id, name, kind, secret_hash)
    SELECT ${schoolId}, 'Bench device ' || g, 'terminal', ${hash} FROM generate_series(1, ${count}) g RETURNING id`.execute(db);
  const keys = deriveKeys(config.jwtSecret!);
  return Promise.all(rows.rows.map(async (r) => ({
    id: r.id, schoolId, secret, token: await signDeviceToken(keys, { deviceId: r.id, schoolId }, ttlSeconds),
  })));
}

/** Rows of one batch: pairs of check-in/check-out per pupil and day, going back from yesterday. */
export function batchRows(opts: { rows: number; userIds: readonly number[]; firstRecordId?: number; dayOffset?: number; minuteOffset?: number; now?: Date }) {
  const dayMs = 86_400_000;
  const today = Math.floor((opts.now ?? new Date()).getTime() / dayMs) * dayMs;
  const out: Array<{ recordId: number; userId: number; type: 'checkin' | 'checkout'; at: Date; temperature: number | null }> = [];
  const users = opts.userIds.length;
  for (let i = 0; i < opts.rows; i++) {
    const pair = Math.floor(i / 2);
    const userId = opts.userIds[pair % users];
    const day = today - (Math.floor(pair / users) + 1 + (opts.dayOffset ?? 0)) * dayMs;
    const checkin = i % 2 === 0;
    const at = new Date(day + (checkin ? 7 * 60 + (opts.minuteOffset ?? 0) : 15 * 60) * 60_000);
    out.push({ recordId: (opts.firstRecordId ?? 1) + i, userId, type: checkin ? 'checkin' : 'checkout', at, temperature: checkin ? 36.6 : null });
  }
  return out;
}

export function rowsCsv(rows: ReturnType<typeof batchRows>): string {
  const parts = ['record_id,user_id,type,occurred_at,temperature,photo\n'];
  for (const r of rows) parts.push(`${r.recordId},${r.userId},${r.type},${r.at.toISOString()},${r.temperature ?? ''},\n`);
  return parts.join('');
}

// Idempotency keys of REST creates: (staff, key) → the hash of the request and the answer
// given. The key is claimed first with INSERT … ON CONFLICT DO NOTHING inside the request's
// transaction: a concurrent request with the same key waits on that row until the first
// commits (then reads its answer) or rolls back (then claims the key itself). Only answers
// that committed are ever stored, so a failed request leaves its key free for a retry.
import { createHash } from 'node:crypto';
import type { Trx } from '../database.js';

/** JSON with object keys sorted at every depth: equal bodies hash equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'replay'; status: number; body: object }
  | { kind: 'mismatch' };

/** Pending marker until `recordAnswer` runs in the same transaction; never visible committed. */
const PENDING_STATUS = 0;

export async function claimKey(trx: Trx, staffId: number, key: string, hash: string): Promise<Claim> {
  const inserted = await trx.insertInto('idempotency_keys')
    .values({ staff_id: staffId, key, request_hash: hash, response_status: PENDING_STATUS, response_body: '{}' })
    .onConflict((oc) => oc.columns(['staff_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { kind: 'claimed' };
  const stored = await trx.selectFrom('idempotency_keys').select(['request_hash', 'response_status', 'response_body'])
    .where('staff_id', '=', staffId).where('key', '=', key).executeTakeFirstOrThrow();
  if (stored.request_hash !== hash) return { kind: 'mismatch' };
  return { kind: 'replay', status: stored.response_status, body: stored.response_body };
}

export async function recordAnswer(trx: Trx, staffId: number, key: string, status: number, body: object): Promise<void> {
  await trx.updateTable('idempotency_keys').set({ response_status: status, response_body: JSON.stringify(body) })
    .where('staff_id', '=', staffId).where('key', '=', key).execute();
}

// What PUSH terminals upload: an ATTLOG (or rtlog) batch stored as its import session in one statement
// (the session is its import's queue entry, docs/ARCHITECTURE.md), and the bodies of the tables the
// server does not import, kept for staff to read.
import { sql } from 'kysely';
import { PUSH_SESSION_CHANNEL } from '../../../shared/protocol/push.js';
import type { DbOrTrx } from '../../database.js';
import { schoolOfDevice } from '../devices.js';

/** An earlier, not failed, session of this terminal with the very same bytes: a retry after a lost `OK`. */
export async function sameBatchSession(db: DbOrTrx, schoolId: number, deviceId: string, sha256: string): Promise<string | undefined> {
  const row = await db.selectFrom('sync_sessions').select('id')
    .where('school_id', '=', schoolId).where('device_id', '=', deviceId).where('channel', '=', PUSH_SESSION_CHANNEL).where('archive_sha256', '=', sha256)
    .where((eb) => eb.or([eb('outcome', 'is', null), eb('outcome', '<>', 'failed')]))
    .limit(1).executeTakeFirst();
  return row?.id;
}

/**
 * An ATTLOG (or rtlog) upload in one statement, its own transaction: the device re-read under a share lock
 * (a disable committed before refuses the batch, one arriving later waits for this commit), the
 * session stored unless the very same bytes are already (a retry after a lost `OK`), the
 * terminal's cursor raised. The stored session is the import's queue entry: the worker looks
 * for pending PUSH sessions several times a second and its one import job takes them all
 * (channels/push/session.ts). No job is inserted and nothing NOTIFYed here: uploads contended on
 * the job row, and PostgreSQL serializes the commits of transactions that NOTIFY (a lock held
 * through the WAL flush), which at 167 uploads a second became the queue the uploads waited in.
 */
export async function storeAttlogBatch(db: DbOrTrx, batch: { sessionId: string; schoolId: number; deviceId: string; serialNumber: string; archive: Buffer; sha256: string; stamp: number | null; table: 'ATTLOG' | 'rtlog' }): Promise<'stored' | 'duplicate' | 'disabled'> {
  const row = await sql<{ enabled: boolean; stored: boolean }>`
    WITH dev AS (
      SELECT id, school_id FROM devices WHERE school_id = ${batch.schoolId} AND id = ${batch.deviceId}::uuid AND disabled_at IS NULL FOR SHARE
    ), stored AS (
      INSERT INTO sync_sessions (id, device_id, channel, archive, archive_sha256, archive_bytes, push_table, school_id)
      SELECT ${batch.sessionId}::uuid, dev.id, ${PUSH_SESSION_CHANNEL}, ${batch.archive}, ${batch.sha256}, ${batch.archive.length}, ${batch.table}, dev.school_id FROM dev
      WHERE NOT EXISTS (
        SELECT 1 FROM sync_sessions WHERE school_id = dev.school_id AND device_id = dev.id AND channel = ${PUSH_SESSION_CHANNEL} AND archive_sha256 = ${batch.sha256}
          AND (outcome IS NULL OR outcome <> 'failed')
      )
      RETURNING id
    ), stamp AS (
      UPDATE push_terminals SET attlog_stamp = greatest(attlog_stamp, ${batch.stamp}::bigint)
      WHERE school_id = ${batch.schoolId} AND serial_number = ${batch.serialNumber} AND ${batch.stamp}::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM dev)
    )
    SELECT EXISTS (SELECT 1 FROM dev) AS enabled, EXISTS (SELECT 1 FROM stored) AS stored
  `.execute(db);
  const { enabled, stored } = row.rows[0];
  return !enabled ? 'disabled' : stored ? 'stored' : 'duplicate';
}

/**
 * The body of an upload of a table the server does not import (docs/protocol/push.md §4 "any other table"):
 * kept with the terminal, once per (terminal, table, bytes) — a retry after a lost answer adds
 * nothing. It is what the terminal deletes once answered, so it is stored before the answer.
 */
export async function storeUpload(db: DbOrTrx, upload: { deviceId: string; table: string; body: Buffer; sha256: string }): Promise<void> {
  await db.insertInto('push_uploads').values({
    school_id: schoolOfDevice(upload.deviceId), device_id: upload.deviceId, table_name: upload.table.slice(0, 64), body: upload.body, body_bytes: upload.body.length, body_sha256: upload.sha256,
  }).onConflict((oc) => oc.columns(['device_id', 'table_name', 'body_sha256', 'school_id']).doNothing()).execute();
}

/** A terminal's kept uploads, newest first, the first `maxBytes` of each body as text. */
export async function listUploads(db: DbOrTrx, schoolId: number, deviceId: string, opts: { beforeId: number | null; limit: number; maxBytes: number }) {
  let q = db.selectFrom('push_uploads')
    .select(['id', 'table_name', 'body_bytes', 'received_at', sql<Buffer>`substring(body FROM 1 FOR ${opts.maxBytes})`.as('head')])
    .where('school_id', '=', schoolId).where('device_id', '=', deviceId).orderBy('id', 'desc').limit(opts.limit);
  if (opts.beforeId !== null) q = q.where('id', '<', opts.beforeId);
  // Decoded here, not by PostgreSQL: a body is untrusted bytes, and a cut may split a character.
  return (await q.execute()).map(({ head, ...u }) => ({ ...u, id: Number(u.id), text: head.toString('utf8') }));
}

// The audit trail of staff writes (issue #29): who (id and email, read at the time of the
// write so the trail still names them after their account goes), when, what, in which school.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';

export interface AuditEntry {
  staffId: number;
  schoolId: number | null;
  action: string;
  targetKind: 'user' | 'staff' | 'device' | 'roster_import';
  targetId: string | number;
  details?: Record<string, unknown>;
}

/** One INSERT … SELECT: the author's email is copied from their row in the same statement. */
export async function recordAudit(db: DbOrTrx, e: AuditEntry): Promise<void> {
  await db.insertInto('audit_events').columns(['staff_id', 'staff_email', 'school_id', 'action', 'target_kind', 'target_id', 'details'])
    .expression((eb) => eb.selectFrom('staff').where('id', '=', e.staffId).select([
      'id', 'email', sql<number | null>`${e.schoolId}::bigint`.as('school_id'), sql<string>`${e.action}`.as('action'),
      sql<string>`${e.targetKind}`.as('target_kind'), sql<string>`${String(e.targetId)}`.as('target_id'),
      sql<string>`${JSON.stringify(e.details ?? {})}::jsonb`.as('details'),
    ]))
    .execute();
}

export interface AuditFilter {
  schoolId: number | null;
  targetKind?: string;
  targetId?: string;
  /** Keyset: events before this id (newest first). */
  beforeId: number | null;
  limit: number;
}

export async function listAudit(db: DbOrTrx, f: AuditFilter) {
  let q = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(f.limit);
  if (f.schoolId !== null) q = q.where('school_id', '=', f.schoolId);
  if (f.targetKind) q = q.where('target_kind', '=', f.targetKind);
  if (f.targetId) q = q.where('target_id', '=', f.targetId);
  if (f.beforeId !== null) q = q.where('id', '<', f.beforeId);
  return q.execute();
}

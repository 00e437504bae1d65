// The audit trail of staff's writes (issue #29: "each action audited with its author"): one row
// per write, in the write's own transaction, naming the person by id and email.
import { sql } from 'kysely';
import type { DbOrTrx } from '../database.js';
import type { StaffAuditRow } from '../schema/index.js';

export interface AuditInput {
  staffId: number;
  /** The school the write concerns; null for what belongs to no school (a shared calendar). */
  schoolId: number | null;
  /** What was done, e.g. `calendar_entry.create`, `calendar.import`. */
  action: string;
  /** What it was done to, e.g. `calendar_entry`, and its id. */
  subject: string;
  subjectId: number | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: DbOrTrx, input: AuditInput): Promise<void> {
  await sql`
    INSERT INTO staff_audit (staff_id, staff_email, school_id, action, subject, subject_id, details)
    SELECT id, email, ${input.schoolId}::bigint, ${input.action}, ${input.subject}, ${input.subjectId}::bigint, ${JSON.stringify(input.details ?? {})}::jsonb
    FROM staff WHERE id = ${input.staffId}::bigint
  `.execute(db);
}

/** Newest first (keyset on id); `schoolId` null: every row (backoffice). */
export async function listAudit(db: DbOrTrx, opts: { schoolId: number | null; subject?: string; beforeId: number | null; limit: number }): Promise<StaffAuditRow[]> {
  let q = db.selectFrom('staff_audit').selectAll().orderBy('id', 'desc').limit(opts.limit);
  if (opts.schoolId !== null) q = q.where('school_id', '=', opts.schoolId);
  if (opts.subject) q = q.where('subject', '=', opts.subject);
  if (opts.beforeId !== null) q = q.where('id', '<', opts.beforeId);
  return q.execute();
}

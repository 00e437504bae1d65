// Scope: backoffice sees every school, a school admin only theirs. Anything out of scope is
// answered as if it did not exist (404), never 403, so ids from other schools reveal nothing.
import { schoolOfRow, type RowWithSchool } from '../../db/repositories/school-of.js';
import type { DbOrTrx } from '../../db/database.js';
import { notFound } from '../../shared/errors.js';
import type { StaffAuth } from './authenticate.js';

/** The school a caller is limited to, or null for every school. */
export function schoolScope(auth: StaffAuth): number | null {
  return auth.role === 'backoffice' ? null : auth.schoolId;
}

export function assertInScope(auth: StaffAuth, schoolId: number | null | undefined, what: string): void {
  const scope = schoolScope(auth);
  if (schoolId === null || schoolId === undefined || (scope !== null && scope !== schoolId)) throw notFound(what);
}

/**
 * The one school a request about this row reads (docs/scaling-schema.md): a school admin's own,
 * or for back office the row's school (null: no such row). The lookup that follows filters by
 * it, so a row of another school is not found (404) as before.
 */
export async function schoolOfRequest(db: DbOrTrx, auth: StaffAuth, table: RowWithSchool, id: string | number): Promise<number | null> {
  return schoolScope(auth) ?? (await schoolOfRow(db, table, id)) ?? null;
}

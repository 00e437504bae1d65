// Scope: backoffice sees every school, a school admin only theirs. Anything out of scope is
// answered as if it did not exist (404), never 403, so ids from other schools reveal nothing.
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

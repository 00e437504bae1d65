// `/api/staff`: staff accounts. Backoffice manages every account; a school admin manages the
// school admins of their own school (any other account answers 404, as out of scope). The
// dashboard deactivates accounts, never deletes them (DELETE stays for backoffice, as before):
// a deactivated account cannot sign in and its sessions end at once, as do those of an account
// whose password is reset or changed (api/http/authenticate.ts). A staff member who may manage
// an account may issue a one-time reset link for it (api/auth/password-reset.ts). Every write is
// audited (db/repositories/audit.ts).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '../../db/repositories/staff-audit.js';
import {
  countBackoffice, deactivateStaff, deleteStaff, endSessions, findStaff, insertStaff, listStaff, updateStaff, type PublicStaff,
} from '../../db/repositories/staff.js';
import { findSchool } from '../../db/repositories/schools.js';
import type { DbOrTrx } from '../../db/database.js';
import { Problem, notFound, validationFailed } from '../../shared/errors.js';
import { hashPassword } from '../../shared/auth/password.js';
import { issueReset, mailReset } from '../auth/password-reset.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { schoolScope } from '../http/scope.js';
import { errors, idParam, idQuery, pageOf, timestamp } from '../schemas/common.js';
import { staffSchema } from '../schemas/resources.js';

const email = z.email().max(254);
const password = z.string().min(8).max(1024);
const role = z.enum(['backoffice', 'school_admin']);
const createBody = z.object({
  email, password: password.optional().describe('Omitted: the account gets no usable password until a reset link is used'),
  role: role.default('school_admin'), school_id: z.number().int().positive().nullable().optional().describe("A school admin's own school by default"),
  name: z.string().max(200).optional(),
});
const updateBody = z.object({ email: email.optional(), password: password.optional(), role: role.optional(), school_id: z.number().int().positive().nullable().optional(), name: z.string().max(200).nullable().optional() });
export const resetAnswer = z.object({
  reset_url: z.string().describe('Shown once: works once, until expires_at'),
  expires_at: timestamp,
  emailed: z.boolean().describe('Also sent to the account by e-mail (SMTP_URL set and accepted)'),
});

async function checkRoleSchool(db: DbOrTrx, r: string, schoolId: number | null | undefined): Promise<void> {
  if (r === 'school_admin') {
    if (!schoolId) throw validationFailed([{ field: 'body.school_id', message: 'required for a school_admin' }]);
    if (!(await findSchool(db, schoolId))) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
  } else if (schoolId) {
    throw validationFailed([{ field: 'body.school_id', message: 'must be empty for backoffice staff' }]);
  }
}

/** Backoffice: any account; a school admin: their own school's admins. Anything else is 404. */
async function staffInScope(db: DbOrTrx, auth: StaffAuth, id: number): Promise<PublicStaff> {
  const found = await findStaff(db, id);
  const scope = schoolScope(auth);
  if (!found || (scope !== null && (found.role !== 'school_admin' || found.school_id !== scope))) throw notFound('staff account');
  return found;
}

/** A school admin may not grant backoffice nor move an account to another school. */
function assertGrantable(auth: StaffAuth, nextRole: string, nextSchool: number | null | undefined): void {
  const scope = schoolScope(auth);
  if (scope === null) return;
  if (nextRole !== 'school_admin') throw new Problem('forbidden', 'Only backoffice staff may manage backoffice accounts');
  if (nextSchool !== scope) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
}

const audit = (db: DbOrTrx, auth: StaffAuth, target: PublicStaff, action: string, details?: Record<string, unknown>) =>
  recordAudit(db, { staffId: auth.staffId, schoolId: target.school_id, action, subject: 'staff', subjectId: target.id, details: { email: target.email, ...details } });

export function staffRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/staff', summary: 'List staff accounts in scope', tags: ['staff'], auth: 'staff',
    query: z.object({ ...pageQuery, school_id: idQuery.optional().describe("Forced to a school admin's own school") }),
    responses: { 200: { description: 'A page of staff', schema: pageOf(staffSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listStaff(db, { afterId: after, limit: query.limit + 1, schoolId: scope ?? query.school_id ?? null });
      return reply.ok(toPage(rows, query.limit, (s) => s.id));
    },
  });

  api.add({
    method: 'post', path: '/api/staff', summary: 'Create a staff account', tags: ['staff'], auth: 'staff',
    body: createBody,
    responses: { 201: { description: 'Created', schema: staffSchema }, ...errors(401, 403, 409, 422) },
    async handler({ body, db, auth }) {
      const schoolId = body.role === 'school_admin' ? body.school_id ?? schoolScope(auth) : body.school_id;
      assertGrantable(auth, body.role, schoolId);
      await checkRoleSchool(db, body.role, schoolId);
      // No password given: a random one nobody knows; the account is opened with a reset link.
      const secret = body.password ?? randomBytes(32).toString('base64url');
      const created = await insertStaff(db, {
        email: body.email, password_hash: await hashPassword(secret), role: body.role,
        school_id: body.role === 'school_admin' ? schoolId! : null, name: body.name ?? null,
      });
      await audit(db, auth, created, 'staff.create', { role: created.role });
      return reply.created(created);
    },
  });

  api.add({
    method: 'get', path: '/api/staff/:id', summary: 'Show a staff account', tags: ['staff'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The account', schema: staffSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      return reply.ok(await staffInScope(db, auth, params.id));
    },
  });

  api.add({
    method: 'patch', path: '/api/staff/:id', summary: 'Update a staff account (a new password ends its sessions)', tags: ['staff'], auth: 'staff',
    params: idParam, body: updateBody,
    responses: { 200: { description: 'Updated', schema: staffSchema }, ...errors(401, 403, 404, 409, 422) },
    async handler({ params, body, db, auth }) {
      const current = await staffInScope(db, auth, params.id);
      const nextRole = body.role ?? current.role;
      const nextSchool = body.school_id !== undefined ? body.school_id : current.school_id;
      assertGrantable(auth, nextRole, nextSchool);
      await checkRoleSchool(db, nextRole, nextRole === 'backoffice' && body.role ? null : nextSchool);
      const updated = await updateStaff(db, params.id, {
        ...(body.email !== undefined && { email: body.email.toLowerCase() }),
        ...(body.password !== undefined && { password_hash: await hashPassword(body.password) }),
        ...(body.name !== undefined && { name: body.name }),
        role: nextRole,
        school_id: nextRole === 'backoffice' ? null : nextSchool,
      });
      if (current.role === 'backoffice' && nextRole !== 'backoffice' && (await countBackoffice(db)) === 0) {
        throw new Problem('conflict', 'The last backoffice account cannot lose its role');
      }
      if (body.password !== undefined) await endSessions(db, params.id);
      const { password: _secret, ...shown } = body;
      await audit(db, auth, updated!, 'staff.update', { fields: Object.keys(shown).concat(body.password !== undefined ? ['password'] : []) });
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/staff/:id/deactivate', summary: 'Deactivate a staff account: it cannot sign in, its sessions end', tags: ['staff'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'Deactivated (again: the first date stays)', schema: staffSchema }, ...errors(401, 404, 409) },
    async handler({ params, db, auth }) {
      const current = await staffInScope(db, auth, params.id);
      if (params.id === auth.staffId) throw new Problem('conflict', 'You cannot deactivate your own account');
      if (current.deactivated_at) return reply.ok(current);
      const updated = await deactivateStaff(db, params.id, new Date());
      if (current.role === 'backoffice' && (await countBackoffice(db)) === 0) throw new Problem('conflict', 'The last backoffice account cannot be deactivated');
      await audit(db, auth, current, 'staff.deactivate');
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/staff/:id/reactivate', summary: 'Reactivate a deactivated staff account', tags: ['staff'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'Active again', schema: staffSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const current = await staffInScope(db, auth, params.id);
      if (!current.deactivated_at) return reply.ok(current);
      const updated = await updateStaff(db, params.id, { deactivated_at: null });
      await audit(db, auth, current, 'staff.reactivate');
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/staff/:id/password-reset', summary: 'Issue a one-time password reset link; the account\'s sessions end', tags: ['staff'], auth: 'staff',
    description: 'The link is answered once (only its hash is kept), works once until `expires_at` (PASSWORD_RESET_TTL_MINUTES), replaces any '
      + 'earlier link, and is also e-mailed to the account when SMTP_URL is set (`send_email`, default true). Every session of the account ends.',
    params: idParam,
    body: z.object({ send_email: z.boolean().default(true) }).optional(),
    responses: { 201: { description: 'The link, shown once', schema: resetAnswer }, ...errors(401, 404, 409) },
    async handler({ params, body, db, auth, ctx, req }) {
      const target = await staffInScope(db, auth, params.id);
      if (target.deactivated_at) throw new Problem('conflict', 'Reactivate the account first');
      const reset = await issueReset(db, ctx, req, target.id, auth.staffId);
      if (target.id !== auth.staffId) await endSessions(db, target.id);
      const emailed = body?.send_email !== false ? await mailReset(ctx, target.email, reset) : false;
      await audit(db, auth, target, 'staff.password_reset', { emailed, expires_at: reset.expiresAt.toISOString() });
      return reply.created({ reset_url: reset.url, expires_at: reset.expiresAt, emailed });
    },
  });

  api.add({
    method: 'delete', path: '/api/staff/:id', summary: 'Delete a staff account (backoffice; the dashboard deactivates instead)', tags: ['staff'], auth: 'backoffice',
    params: idParam,
    responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 409) },
    async handler({ params, db, auth }) {
      if (params.id === auth.staffId) throw new Problem('conflict', 'You cannot delete your own account');
      const current = await findStaff(db, params.id);
      if (!current || !(await deleteStaff(db, params.id))) throw notFound('staff account');
      await audit(db, auth, current, 'staff.delete');
      return reply.noContent();
    },
  });
}

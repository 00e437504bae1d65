// `/api/staff`: backoffice manages staff accounts.
import { z } from 'zod';
import { countBackoffice, deleteStaff, findStaff, insertStaff, listStaff, updateStaff } from '../../db/repositories/staff.js';
import { findSchool } from '../../db/repositories/schools.js';
import type { DbOrTrx } from '../../db/database.js';
import { Problem, notFound, orNotFound, validationFailed } from '../../shared/errors.js';
import { hashPassword } from '../../shared/auth/password.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { errors, idParam, pageOf } from '../schemas/common.js';
import { staffSchema } from '../schemas/resources.js';

const email = z.email().max(254);
const password = z.string().min(8).max(1024);
const role = z.enum(['backoffice', 'school_admin']);
const createBody = z.object({ email, password, role, school_id: z.number().int().positive().nullable().optional(), name: z.string().max(200).optional() });
const updateBody = z.object({ email: email.optional(), password: password.optional(), role: role.optional(), school_id: z.number().int().positive().nullable().optional(), name: z.string().max(200).nullable().optional() });

async function checkRoleSchool(db: DbOrTrx, r: string, schoolId: number | null | undefined): Promise<void> {
  if (r === 'school_admin') {
    if (!schoolId) throw validationFailed([{ field: 'body.school_id', message: 'required for a school_admin' }]);
    if (!(await findSchool(db, schoolId))) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
  } else if (schoolId) {
    throw validationFailed([{ field: 'body.school_id', message: 'must be empty for backoffice staff' }]);
  }
}

export function staffRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/staff', summary: 'List staff accounts', tags: ['staff'], auth: 'backoffice',
    query: z.object(pageQuery),
    responses: { 200: { description: 'A page of staff', schema: pageOf(staffSchema) }, ...errors(401, 403, 422) },
    async handler({ query, db }) {
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listStaff(db, { afterId: after, limit: query.limit + 1 });
      return reply.ok(toPage(rows, query.limit, (s) => s.id));
    },
  });

  api.add({
    method: 'post', path: '/api/staff', summary: 'Create a staff account', tags: ['staff'], auth: 'backoffice',
    body: createBody,
    responses: { 201: { description: 'Created', schema: staffSchema }, ...errors(401, 403, 409, 422) },
    async handler({ body, db }) {
      await checkRoleSchool(db, body.role, body.school_id);
      const created = await insertStaff(db, {
        email: body.email, password_hash: await hashPassword(body.password), role: body.role,
        school_id: body.role === 'school_admin' ? body.school_id! : null, name: body.name ?? null,
      });
      return reply.created(created);
    },
  });

  api.add({
    method: 'get', path: '/api/staff/:id', summary: 'Show a staff account', tags: ['staff'], auth: 'backoffice',
    params: idParam,
    responses: { 200: { description: 'The account', schema: staffSchema }, ...errors(401, 403, 404) },
    async handler({ params, db }) {
      return reply.ok(orNotFound(await findStaff(db, params.id), 'staff account'));
    },
  });

  api.add({
    method: 'patch', path: '/api/staff/:id', summary: 'Update a staff account', tags: ['staff'], auth: 'backoffice',
    params: idParam, body: updateBody,
    responses: { 200: { description: 'Updated', schema: staffSchema }, ...errors(401, 403, 404, 409, 422) },
    async handler({ params, body, db }) {
      const current = await findStaff(db, params.id);
      if (!current) throw notFound('staff account');
      const nextRole = body.role ?? current.role;
      const nextSchool = body.school_id !== undefined ? body.school_id : current.school_id;
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
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'delete', path: '/api/staff/:id', summary: 'Delete a staff account', tags: ['staff'], auth: 'backoffice',
    params: idParam,
    responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 409) },
    async handler({ params, db, auth }) {
      if (params.id === auth.staffId) throw new Problem('conflict', 'You cannot delete your own account');
      if (!(await deleteStaff(db, params.id))) throw notFound('staff account');
      return reply.noContent();
    },
  });
}

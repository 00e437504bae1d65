// `/api/users`: the people whose attendance is recorded. School admins manage their own
// school's users; DELETE deactivates (sets deleted_at), the row and its history stay, and a
// deactivated user leaves lists unless `include_deleted=true`. A user never changes school.
// A user created with a badge, or given one, has the punches its school held for that badge
// (docs/protocol/push.md §4 "held punches") imported in the same transaction, once.
import { z } from 'zod';
import type { DbOrTrx, Trx } from '../../db/database.js';
import { deactivateUser, findUser, insertUser, listUsers, updateUser, type PublicUser } from '../../db/repositories/users.js';
import { importHeldForUser } from '../../db/repositories/held-punches.js';
import { findSchool } from '../../db/repositories/schools.js';
import { validationFailed } from '../../shared/errors.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolScope } from '../http/scope.js';
import { errors, idParam, idQuery, localDate, pageOf, queryFlag } from '../schemas/common.js';
import { userSchema } from '../schemas/resources.js';

const userFields = {
  name: z.string().trim().min(1).max(200),
  badge: z.string().min(1).max(64).describe('Unique in the school, deactivated users included'),
  enrolled_on: localDate.describe('YYYY-MM-DD: the user counts in the figures from this day on'),
};
const createBody = z.strictObject({
  school_id: z.number().int().positive().optional().describe("Required for backoffice; a school admin's own school by default"),
  name: userFields.name,
  badge: userFields.badge,
  enrolled_on: userFields.enrolled_on.optional().describe('YYYY-MM-DD; the day of creation by default'),
});
const replaceBody = z.strictObject(userFields);
const patchBody = replaceBody.partial();
const listQuery = z.object({
  ...pageQuery,
  school_id: idQuery.optional().describe("Forced to a school admin's own school"),
  q: z.string().min(1).max(200).optional().describe('Name or badge contains this, ignoring case and accents ("chloe" finds Chloé)'),
  include_deleted: queryFlag.default(false).describe('Also list deactivated users'),
});

async function userInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const user = await findUser(db, id);
  assertInScope(auth, user?.school_id, 'user');
  return user!;
}

/** The roster gained this user's badge: its school's held punches for it become its attendances now, once. */
async function withHeldPunches<U extends PublicUser | undefined>(trx: Trx, user: U): Promise<U> {
  if (user) await importHeldForUser(trx, { id: Number(user.id), school_id: Number(user.school_id), badge: user.badge });
  return user;
}

export function userRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/users', summary: 'List users in scope', tags: ['users'], auth: 'staff',
    query: listQuery,
    responses: { 200: { description: 'A page of users, by id', schema: pageOf(userSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listUsers(db, {
        schoolId: scope ?? query.school_id ?? null, q: query.q, includeDeleted: query.include_deleted, afterId: after, limit: query.limit + 1,
      });
      return reply.ok(toPage(rows, query.limit, (u) => u.id));
    },
  });

  api.add({
    method: 'post', path: '/api/users', summary: 'Create a user', tags: ['users'], auth: 'staff',
    body: createBody,
    responses: { 201: { description: 'Created', schema: userSchema }, ...errors(401, 409, 422) },
    async handler({ body, db, auth }) {
      const scope = schoolScope(auth);
      const schoolId = body.school_id ?? scope;
      if (schoolId === null) throw validationFailed([{ field: 'body.school_id', message: 'required' }]);
      // Another school's id gets the same answer as a missing one: nothing leaks.
      if ((scope !== null && scope !== schoolId) || !(await findSchool(db, schoolId))) {
        throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      }
      const { school_id: _given, ...fields } = body;
      return reply.created(await withHeldPunches(db, await insertUser(db, { ...fields, school_id: schoolId })));
    },
  });

  api.add({
    method: 'get', path: '/api/users/:id', summary: 'Show a user (deactivated ones too)', tags: ['users'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The user', schema: userSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      return reply.ok(await userInScope(db, auth, params.id));
    },
  });

  api.add({
    method: 'put', path: '/api/users/:id', summary: 'Replace the editable fields of a user (all required)', tags: ['users'], auth: 'staff',
    params: idParam, body: replaceBody,
    responses: { 200: { description: 'Updated', schema: userSchema }, ...errors(401, 404, 409, 422) },
    async handler({ params, body, db, auth }) {
      await userInScope(db, auth, params.id);
      return reply.ok(await withHeldPunches(db, await updateUser(db, params.id, body)));
    },
  });

  api.add({
    method: 'patch', path: '/api/users/:id', summary: 'Change the given fields of a user', tags: ['users'], auth: 'staff',
    params: idParam, body: patchBody,
    responses: { 200: { description: 'Updated', schema: userSchema }, ...errors(401, 404, 409, 422) },
    async handler({ params, body, db, auth }) {
      const user = await userInScope(db, auth, params.id);
      if (Object.keys(body).length === 0) return reply.ok(user);
      const updated = await updateUser(db, params.id, body);
      return reply.ok(body.badge !== undefined && body.badge !== user.badge ? await withHeldPunches(db, updated) : updated);
    },
  });

  api.add({
    method: 'delete', path: '/api/users/:id', summary: 'Deactivate a user: attendances and figures stay', tags: ['users'], auth: 'staff',
    params: idParam,
    responses: { 204: { description: 'Deactivated (again: the first date stays)' }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      await userInScope(db, auth, params.id);
      await deactivateUser(db, params.id, new Date());
      return reply.noContent();
    },
  });
}

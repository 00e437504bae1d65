// `/api/users`: the people whose attendance is recorded.
import { z } from 'zod';
import { findUser, insertUser, listUsers } from '../../db/repositories/users.js';
import { findSchool } from '../../db/repositories/schools.js';
import { validationFailed } from '../../shared/errors.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolScope } from '../http/scope.js';
import { errors, idParam, localDate, pageOf } from '../schemas/common.js';
import { userSchema } from '../schemas/resources.js';

const createBody = z.object({
  school_id: z.number().int().positive(),
  name: z.string().min(1).max(200),
  badge: z.string().min(1).max(64),
  enrolled_on: localDate.optional(),
});

export function userRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/users', summary: 'List users in scope', tags: ['users'], auth: 'staff',
    query: z.object({ ...pageQuery, school_id: z.coerce.number().int().positive().optional() }),
    responses: { 200: { description: 'A page of users', schema: pageOf(userSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listUsers(db, { schoolId: scope ?? query.school_id ?? null, afterId: after, limit: query.limit + 1 });
      return reply.ok(toPage(rows, query.limit, (u) => u.id));
    },
  });

  api.add({
    method: 'post', path: '/api/users', summary: 'Create a user', tags: ['users'], auth: 'staff',
    body: createBody,
    responses: { 201: { description: 'Created', schema: userSchema }, ...errors(401, 404, 409, 422) },
    async handler({ body, db, auth }) {
      const scope = schoolScope(auth);
      if ((scope !== null && scope !== body.school_id) || !(await findSchool(db, body.school_id))) {
        throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      }
      return reply.created(await insertUser(db, body));
    },
  });

  api.add({
    method: 'get', path: '/api/users/:id', summary: 'Show a user', tags: ['users'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The user', schema: userSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const user = await findUser(db, params.id);
      assertInScope(auth, user?.school_id, 'user');
      return reply.ok(user);
    },
  });
}

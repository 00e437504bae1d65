// `/api/schools`.
import { z } from 'zod';
import { findSchool, insertSchool, listSchools } from '../../db/repositories/schools.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolScope } from '../http/scope.js';
import { isValidTimeZone } from '../../shared/time/zoned.js';
import { errors, idParam, pageOf } from '../schemas/common.js';
import { schoolSchema } from '../schemas/resources.js';

export const schoolFields = {
  name: z.string().min(1).max(200),
  timezone: z.string().max(64).refine(isValidTimeZone, 'not an IANA time zone'),
  school_days: z.array(z.number().int().min(1).max(7)).min(1).max(7).refine((d) => new Set(d).size === d.length, 'repeated day'),
  day_end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM'),
  fever_threshold: z.number().min(35).max(43),
};
const createBody = z.object({
  name: schoolFields.name,
  timezone: schoolFields.timezone.optional(),
  school_days: schoolFields.school_days.optional(),
  day_end: schoolFields.day_end.optional(),
  fever_threshold: schoolFields.fever_threshold.optional(),
});

export function schoolRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/schools', summary: 'List schools in scope', tags: ['schools'], auth: 'staff',
    query: z.object(pageQuery),
    responses: { 200: { description: 'A page of schools', schema: pageOf(schoolSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listSchools(db, { onlyId: schoolScope(auth), afterId: after, limit: query.limit + 1 });
      return reply.ok(toPage(rows, query.limit, (s) => s.id));
    },
  });

  api.add({
    method: 'post', path: '/api/schools', summary: 'Create a school', tags: ['schools'], auth: 'backoffice',
    body: createBody,
    responses: { 201: { description: 'Created', schema: schoolSchema }, ...errors(401, 403, 422) },
    async handler({ body, db }) {
      return reply.created(await insertSchool(db, body));
    },
  });

  api.add({
    method: 'get', path: '/api/schools/:id', summary: 'Show a school', tags: ['schools'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The school', schema: schoolSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const school = await findSchool(db, params.id);
      assertInScope(auth, school?.id, 'school');
      return reply.ok(school);
    },
  });
}

// `/api/schools`: backoffice creates, changes and deletes schools; a school admin reads only
// their own. A school that still holds users (deactivated ones too: their history stays) or
// devices cannot be deleted.
import { z } from 'zod';
import { deleteSchool, findSchool, insertSchool, listSchools, updateSchool } from '../../db/repositories/schools.js';
import type { School } from '../../db/schema/index.js';
import { Problem, notFound } from '../../shared/errors.js';
import { isValidTimeZone } from '../../shared/time/zoned.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolScope } from '../http/scope.js';
import { errors, idParam, pageOf } from '../schemas/common.js';
import { schoolSchema } from '../schemas/resources.js';

export const schoolFields = {
  name: z.string().trim().min(1).max(200),
  timezone: z.string().max(64).refine(isValidTimeZone, 'not an IANA time zone').describe('IANA time zone, e.g. Europe/Paris'),
  school_days: z.array(z.number().int().min(1).max(7)).min(1).max(7).refine((d) => new Set(d).size === d.length, 'repeated day')
    .describe('ISO weekdays, 1 = Monday'),
  day_end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').describe('HH:MM: an interval still open at the end of a past day closes here'),
  fever_threshold: z.number().min(35).max(43).describe('°C: a temperature at or above it raises a fever event'),
};
const createBody = z.strictObject({
  name: schoolFields.name,
  timezone: schoolFields.timezone.optional(),
  school_days: schoolFields.school_days.optional(),
  day_end: schoolFields.day_end.optional(),
  fever_threshold: schoolFields.fever_threshold.optional(),
});
const replaceBody = z.strictObject(schoolFields);
const patchBody = replaceBody.partial();

/** `day_end` is a PostgreSQL time ('HH:MM:SS'); the API speaks 'HH:MM' both ways. */
export function presentSchool(school: School) {
  return { ...school, day_end: school.day_end.slice(0, 5), late_after: school.late_after?.slice(0, 5) ?? null };
}

export function schoolRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/schools', summary: 'List schools in scope', tags: ['schools'], auth: 'staff',
    query: z.object(pageQuery),
    responses: { 200: { description: 'A page of schools, by id', schema: pageOf(schoolSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listSchools(db, { onlyId: schoolScope(auth), afterId: after, limit: query.limit + 1 });
      const page = toPage(rows, query.limit, (s) => s.id);
      return reply.ok({ ...page, items: page.items.map(presentSchool) });
    },
  });

  api.add({
    method: 'post', path: '/api/schools', summary: 'Create a school', tags: ['schools'], auth: 'backoffice',
    body: createBody,
    responses: { 201: { description: 'Created', schema: schoolSchema }, ...errors(401, 403, 422) },
    async handler({ body, db }) {
      return reply.created(presentSchool(await insertSchool(db, body)));
    },
  });

  api.add({
    method: 'get', path: '/api/schools/:id', summary: 'Show a school', tags: ['schools'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The school', schema: schoolSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      const school = await findSchool(db, params.id);
      assertInScope(auth, school?.id, 'school');
      return reply.ok(presentSchool(school!));
    },
  });

  api.add({
    method: 'put', path: '/api/schools/:id', summary: 'Replace the editable fields of a school (all required)', tags: ['schools'], auth: 'backoffice',
    params: idParam, body: replaceBody,
    responses: { 200: { description: 'Updated', schema: schoolSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db }) {
      const school = await updateSchool(db, params.id, body);
      if (!school) throw notFound('school');
      return reply.ok(presentSchool(school));
    },
  });

  api.add({
    method: 'patch', path: '/api/schools/:id', summary: 'Change the given fields of a school', tags: ['schools'], auth: 'backoffice',
    params: idParam, body: patchBody,
    responses: { 200: { description: 'Updated', schema: schoolSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db }) {
      const school = Object.keys(body).length === 0 ? await findSchool(db, params.id) : await updateSchool(db, params.id, body);
      if (!school) throw notFound('school');
      return reply.ok(presentSchool(school));
    },
  });

  api.add({
    method: 'delete', path: '/api/schools/:id', summary: 'Delete a school that holds no users and no devices', tags: ['schools'], auth: 'backoffice',
    params: idParam,
    responses: { 204: { description: 'Deleted, with its staff accounts' }, ...errors(401, 403, 404, 409, 422) },
    async handler({ params, db: trx }) {
      switch (await deleteSchool(trx, params.id)) {
        case 'not_found': throw notFound('school');
        case 'has_users': throw new Problem('school_has_users', 'The school still has users (deactivated ones included); it cannot be deleted');
        case 'has_devices': throw new Problem('conflict', 'The school still has devices; it cannot be deleted');
        case 'deleted': return reply.noContent();
      }
    },
  });
}

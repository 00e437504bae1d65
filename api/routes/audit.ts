// `/api/audit`: the trail of staff writes (who, when, what), newest first. A school admin reads
// their school's; backoffice every school's, or one (`school_id`).
import { z } from 'zod';
import { listAudit } from '../../db/repositories/audit.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { schoolScope } from '../http/scope.js';
import { errors, idQuery, pageOf, timestamp } from '../schemas/common.js';

const auditSchema = z.object({
  id: z.number().int(), at: timestamp, staff_id: z.number().int().nullable().describe('Null once that account is deleted'),
  staff_email: z.string().nullable(), school_id: z.number().int().nullable(), action: z.string().describe('e.g. user.create, users.import, staff.password_reset, device.register'),
  target_kind: z.string(), target_id: z.string(), details: z.record(z.string(), z.unknown()),
}).meta({ id: 'AuditEvent' });

export function auditRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/audit', summary: 'Staff writes in scope, newest first', tags: ['audit'], auth: 'staff',
    query: z.object({
      ...pageQuery,
      school_id: idQuery.optional().describe("Forced to a school admin's own school"),
      target_kind: z.enum(['user', 'staff', 'device', 'roster_import']).optional(),
      target_id: z.string().max(64).optional(),
    }),
    responses: { 200: { description: 'A page of audit events', schema: pageOf(auditSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const before = decodeCursor(query.cursor, z.number().int());
      const rows = await listAudit(db, {
        schoolId: scope ?? query.school_id ?? null, targetKind: query.target_kind, targetId: query.target_id, beforeId: before, limit: query.limit + 1,
      });
      return reply.ok(toPage(rows, query.limit, (e) => e.id));
    },
  });
}

// The audit trail of staff's writes (issue #29): who did what, when, to which school's data.
// A school admin reads their school's rows; the backoffice every row (filtered by school).
import { z } from 'zod';
import { listAudit } from '../../db/repositories/staff-audit.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { schoolScope } from '../http/scope.js';
import { errors, pageOf, timestamp } from '../schemas/common.js';

export const auditSchema = z.object({
  id: z.number().int(), at: timestamp,
  staff_id: z.number().int().nullable().describe('Null once the account is deleted; the email stays'),
  staff_email: z.string(), school_id: z.number().int().nullable(),
  action: z.string().describe('e.g. calendar_entry.create, calendar_entry.update, calendar_entry.delete, calendar.import'),
  subject: z.string(), subject_id: z.number().int().nullable(),
  details: z.record(z.string(), z.unknown()).describe('What changed: the values written, before and after for a change'),
}).meta({ id: 'AuditEntry' });

export function auditRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/audit', summary: 'Staff\'s writes, newest first: who, when, what (a school admin sees their school\'s)', tags: ['audit'], auth: 'staff',
    query: z.object({
      ...pageQuery,
      school_id: z.coerce.number().int().positive().optional(),
      subject: z.string().max(100).optional().describe('e.g. calendar_entry'),
    }),
    responses: { 200: { description: 'A page of audit rows', schema: pageOf(auditSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      // Another school's id is no error: it lists nothing, as for any list filtered out of scope.
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const rows = await listAudit(db, {
        schoolId: scope ?? query.school_id ?? null, subject: query.subject,
        beforeId: decodeCursor(query.cursor, z.number().int()), limit: query.limit + 1,
      });
      return reply.ok(toPage(rows, query.limit, (r) => r.id));
    },
  });
}

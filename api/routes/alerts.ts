// `GET /api/alerts`: fever alerts in scope, newest first. A check-in or a probe reading at or
// above the school's threshold raised each one when it was stored.
import { z } from 'zod';
import { deviceNames } from '../../db/repositories/devices.js';
import { listFeverEvents } from '../../db/repositories/fever-events.js';
import { findSchool } from '../../db/repositories/schools.js';
import { EXPORT_MAX_ROWS, exportQuery, fileReply, langOf } from '../export/query.js';
import { alertsTable } from '../export/tables.js';
import { validationFailed } from '../../shared/errors.js';
import { localDateOf } from '../../shared/time/zoned.js';
import { decodeCursor, instantIdKey, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { schoolScope } from '../http/scope.js';
import { errors, idQuery, instant, pageOf, timestamp } from '../schemas/common.js';

export const alertSchema = z.object({
  id: z.number().int(),
  school_id: z.number().int(),
  user_id: z.number().int().nullable(),
  user_name: z.string().nullable(),
  device_id: z.string().nullable().describe('null when recorded through the REST API'),
  attendance_id: z.number().int().nullable(),
  source: z.string().describe("'attendance' (a check-in's temperature) or 'sondes' (a probe reading)"),
  temperature: z.number().describe('°C, one decimal'),
  occurred_at: timestamp,
}).meta({ id: 'FeverAlert' });

const listQuery = z.object({
  ...pageQuery,
  school_id: idQuery.optional().describe("Forced to a school admin's own school"),
  from: instant.optional().describe('occurred_at ≥ from'),
  to: instant.optional().describe('occurred_at < to'),
  ...exportQuery,
});

export function alertRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/alerts', summary: 'Fever alerts in scope, newest first', tags: ['figures'], auth: 'staff',
    query: listQuery,
    responses: { 200: { description: 'A page of fever alerts', schema: pageOf(alertSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth, req }) {
      if (query.from && query.to && query.from > query.to) throw validationFailed([{ field: 'query.to', message: 'must not be before from' }]);
      const scope = schoolScope(auth);
      if (query.format !== 'json') {
        // The whole list (no pages), in the school's zone (UTC across schools).
        const schoolId = scope ?? query.school_id ?? null;
        const rows = scope !== null && query.school_id !== undefined && query.school_id !== scope ? []
          : await listFeverEvents(db, { schoolId, from: query.from, to: query.to, before: null, limit: EXPORT_MAX_ROWS + 1 });
        if (rows.length > EXPORT_MAX_ROWS) throw validationFailed([{ field: 'query.from', message: `more than ${EXPORT_MAX_ROWS} rows: narrow the range` }]);
        const school = schoolId === null ? undefined : await findSchool(db, schoolId);
        const names = await deviceNames(db, schoolId, [...new Set(rows.flatMap((r) => (r.device_id ? [r.device_id] : [])))]);
        const table = alertsTable(rows.map((r) => ({ ...r, device_name: r.device_id ? names.get(r.device_id) ?? r.device_id : null })), school?.timezone ?? 'UTC', langOf(query, req));
        const zone = school?.timezone ?? 'UTC';
        const span = [query.from && localDateOf(query.from, zone), query.to && localDateOf(new Date(query.to).getTime() - 1, zone)].filter(Boolean).join('-');
        return fileReply(table, query.format, query, req, `${school?.name ?? 'all-schools'}-fever-alerts${span ? `-${span}` : ''}`);
      }
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const before = decodeCursor(query.cursor, instantIdKey);
      const rows = await listFeverEvents(db, {
        schoolId: scope ?? query.school_id ?? null, from: query.from, to: query.to,
        before: before && { at: before[0], id: before[1] }, limit: query.limit + 1,
      });
      const page = toPage(rows, query.limit, (r) => [r.cursor_at, r.id]);
      return reply.ok({ ...page, items: page.items.map(({ cursor_at: _key, ...r }) => r) });
    },
  });
}

// `/api/messages` (docs/protocol/v4.md §7 messagerie): staff write to one device or to every device of a
// school, within their scope; devices pick the messages up on their next messagerie sync, each
// at most once. `direction=from_devices` lists what devices sent (incidents first of all) to the
// school's admins.
import { z } from 'zod';
import { findDevice } from '../../db/repositories/devices.js';
import { insertMessage, listFromDevices, listOutgoing } from '../../db/repositories/messages.js';
import { findSchool } from '../../db/repositories/schools.js';
import { validationFailed } from '../../shared/errors.js';
import { MAX_MESSAGE_BODY_LENGTH } from '../../shared/csv/message-row.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest, schoolScope } from '../http/scope.js';
import { errors, idQuery, instant, pageOf, timestamp } from '../schemas/common.js';

const outgoingSchema = z.object({
  id: z.number().int(),
  school_id: z.number().int(),
  device_id: z.uuid().nullable().describe('null: every device of the school'),
  body: z.string(),
  priority: z.enum(['normal', 'high']),
  expires_at: timestamp.nullable(),
  created_by: z.number().int().nullable().describe('The staff account that wrote it; null once that account is deleted'),
  created_by_email: z.string().nullable(),
  created_at: timestamp,
  delivered_count: z.number().int().describe('Devices that acknowledged a package carrying it'),
}).meta({ id: 'OfficeMessage' });

const incomingSchema = z.object({
  id: z.number().int(),
  school_id: z.number().int(),
  device_id: z.uuid(),
  device_name: z.string(),
  record_id: z.number().int(),
  kind: z.enum(['info', 'incident']),
  body: z.string(),
  created_at: timestamp.describe("The device's time"),
  received_at: timestamp,
}).meta({ id: 'DeviceMessage' });

const createBody = z.strictObject({
  device_id: z.uuid().optional().describe('One device; give this or school_id'),
  school_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe('Every device of the school; give this or device_id'),
  body: z.string().min(1).refine((s) => s.trim() !== '' && [...s].length <= MAX_MESSAGE_BODY_LENGTH, `1–${MAX_MESSAGE_BODY_LENGTH} characters, not blank`),
  priority: z.enum(['normal', 'high']).default('normal'),
  expires_at: instant.nullable().optional().describe('Never delivered after this instant'),
});

const listQuery = z.object({
  ...pageQuery,
  direction: z.enum(['to_devices', 'from_devices']).default('to_devices'),
  school_id: idQuery.optional().describe("Forced to a school admin's own school"),
  kind: z.enum(['info', 'incident']).optional().describe('from_devices only'),
});
const cursorKey = z.tuple([z.number().int()]);

export function messageRoutes(api: RouteRegistry): void {
  api.add({
    method: 'post', path: '/api/messages', summary: 'Send a message to a device or to every device of a school', tags: ['messages'], auth: 'staff',
    body: createBody,
    responses: { 201: { description: 'The message, to be delivered on the next messagerie syncs', schema: outgoingSchema }, ...errors(401, 404, 422) },
    async handler({ body, db: trx, auth }) {
      if ((body.device_id === undefined) === (body.school_id === undefined)) {
        throw validationFailed([{ field: 'body.device_id', message: 'give exactly one of device_id and school_id' }]);
      }
      if (body.expires_at && body.expires_at <= new Date()) throw validationFailed([{ field: 'body.expires_at', message: 'must be in the future' }]);
      let schoolId: number;
      if (body.device_id !== undefined) {
        const deviceSchool = await schoolOfRequest(trx, auth, 'devices', body.device_id);
        const device = deviceSchool === null ? undefined : await findDevice(trx, deviceSchool, body.device_id);
        assertInScope(auth, device?.school_id, 'device');
        schoolId = device!.school_id;
      } else {
        const school = await findSchool(trx, body.school_id!);
        assertInScope(auth, school?.id, 'school');
        schoolId = school!.id;
      }
      const created = await insertMessage(trx, {
        schoolId, deviceId: body.device_id ?? null, body: body.body, priority: body.priority, expiresAt: body.expires_at ?? null, createdBy: auth.staffId,
      });
      return reply.created(created);
    },
  });

  api.add({
    method: 'get', path: '/api/messages', summary: 'Messages in scope, newest first: sent to devices, or received from them', tags: ['messages'], auth: 'staff',
    query: listQuery,
    responses: { 200: { description: 'A page of messages', schema: pageOf(z.union([outgoingSchema, incomingSchema])) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const schoolId = scope ?? query.school_id ?? null;
      const before = decodeCursor(query.cursor, cursorKey)?.[0] ?? null;
      const rows = query.direction === 'from_devices'
        ? await listFromDevices(db, { schoolId, kind: query.kind, beforeId: before, limit: query.limit + 1 })
        : await listOutgoing(db, { schoolId, beforeId: before, limit: query.limit + 1 });
      return reply.ok(toPage<{ id: number }>(rows, query.limit, (r) => [r.id]));
    },
  });
}

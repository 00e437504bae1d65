// `/api/devices`: registration (the secret is answered once, only its hash is kept),
// listing, update, disable/enable and secret rotation. School admins read their school's devices.
import { z } from 'zod';
import { findDevice, insertDevice, listDevices, updateDevice } from '../../db/repositories/devices.js';
import { findSchool } from '../../db/repositories/schools.js';
import { notFound, validationFailed } from '../../shared/errors.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolScope } from '../http/scope.js';
import type { StaffAuth } from '../http/authenticate.js';
import type { DbOrTrx } from '../../db/database.js';
import { errors, pageOf, uuidParam } from '../schemas/common.js';
import { deviceSchema } from '../schemas/resources.js';

const kind = z.enum(['terminal', 'mobile']);
const createBody = z.object({
  school_id: z.number().int().positive(),
  name: z.string().min(1).max(200),
  kind: kind.default('terminal'),
  sync_interval_seconds: z.number().int().min(10).max(86_400).optional(),
});
const updateBody = z.object({
  name: z.string().min(1).max(200).optional(),
  kind: kind.optional(),
  sync_interval_seconds: z.number().int().min(10).max(86_400).optional(),
});
const withSecret = deviceSchema.extend({ secret: z.string().describe('Shown once: store it on the device') });

async function deviceInScope(db: DbOrTrx, auth: StaffAuth, id: string) {
  const device = await findDevice(db, id);
  assertInScope(auth, device?.school_id, 'device');
  return device!;
}

export function deviceRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/devices', summary: 'List devices in scope', tags: ['devices'], auth: 'staff',
    query: z.object({ ...pageQuery, school_id: z.coerce.number().int().positive().optional() }),
    responses: { 200: { description: 'A page of devices', schema: pageOf(deviceSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const after = decodeCursor(query.cursor, z.uuid());
      const rows = await listDevices(db, { schoolId: scope ?? query.school_id ?? null, afterId: after, limit: query.limit + 1 });
      return reply.ok(toPage(rows, query.limit, (d) => d.id));
    },
  });

  api.add({
    method: 'post', path: '/api/devices', summary: 'Register a device; answers its secret once', tags: ['devices'], auth: 'backoffice',
    body: createBody,
    responses: { 201: { description: 'Registered', schema: withSecret }, ...errors(401, 403, 422) },
    async handler({ body, db }) {
      if (!(await findSchool(db, body.school_id))) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      const secret = generateDeviceSecret();
      const device = await insertDevice(db, { ...body, secret_hash: hashDeviceSecret(secret) });
      return reply.created({ ...device, secret });
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id', summary: 'Show a device', tags: ['devices'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'The device', schema: deviceSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      return reply.ok(await deviceInScope(db, auth, params.id));
    },
  });

  api.add({
    method: 'patch', path: '/api/devices/:id', summary: 'Update a device', tags: ['devices'], auth: 'backoffice',
    params: uuidParam, body: updateBody,
    responses: { 200: { description: 'Updated', schema: deviceSchema }, ...errors(401, 403, 404, 422) },
    async handler({ params, body, db }) {
      const device = await updateDevice(db, params.id, body);
      if (!device) throw notFound('device');
      return reply.ok(device);
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/disable', summary: 'Disable a device: it can no longer sign in', tags: ['devices'], auth: 'backoffice',
    params: uuidParam,
    responses: { 200: { description: 'Disabled', schema: deviceSchema }, ...errors(401, 403, 404) },
    async handler({ params, db }) {
      const current = await findDevice(db, params.id);
      if (!current) throw notFound('device');
      return reply.ok(current.disabled_at ? current : await updateDevice(db, params.id, { disabled_at: new Date() }));
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/enable', summary: 'Enable a disabled device', tags: ['devices'], auth: 'backoffice',
    params: uuidParam,
    responses: { 200: { description: 'Enabled', schema: deviceSchema }, ...errors(401, 403, 404) },
    async handler({ params, db }) {
      const device = await updateDevice(db, params.id, { disabled_at: null });
      if (!device) throw notFound('device');
      return reply.ok(device);
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/secret', summary: 'Rotate the device secret; answers the new one once', tags: ['devices'], auth: 'backoffice',
    params: uuidParam,
    responses: { 200: { description: 'The new secret', schema: withSecret }, ...errors(401, 403, 404) },
    async handler({ params, db }) {
      const secret = generateDeviceSecret();
      const device = await updateDevice(db, params.id, { secret_hash: hashDeviceSecret(secret) });
      if (!device) throw notFound('device');
      return reply.ok({ ...device, secret });
    },
  });
}

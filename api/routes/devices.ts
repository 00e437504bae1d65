// `/api/devices`: registration (the secret is answered once, only its hash is kept),
// listing, update, disable/enable and secret rotation, by backoffice for every school and by a
// school admin for their own (another school's device answers 404). Registration and rotation
// also answer the enrolment link and its QR code (docs/DEVICES.md): the mobile app scans it.
// Every write is audited (db/repositories/audit.ts).
// Lists and shows carry the device's health: each channel's status, pending flags, the last
// acknowledged sync, since when its data is behind, and why it needs attention (`attention=true`
// lists only those: stuck in status 1 or 2, silent, clock off).
import type { Request } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import { recordAudit } from '../../db/repositories/staff-audit.js';
import { enrolUri } from '../../shared/devices/enrol-uri.js';
import { publicBase } from '../auth/password-reset.js';
import { channelHealth, listDevicesNeedingAttention, reportedSettings } from '../../db/repositories/device-health.js';
import { findDevice, insertDevice, listDevices, updateDevice, type PublicDevice } from '../../db/repositories/devices.js';
import { pendingFlagNames } from '../../db/repositories/flags.js';
import { notifyTerminal } from '../../db/repositories/push/terminals.js';
import { findSchool } from '../../db/repositories/schools.js';
import { notFound, orNotFound, validationFailed } from '../../shared/errors.js';
import { ATTENTION_REASONS, attentionReasons } from '../../shared/devices/attention.js';
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest, schoolScope } from '../http/scope.js';
import type { StaffAuth } from '../http/authenticate.js';
import type { DbOrTrx } from '../../db/database.js';
import type { AppContext } from '../context/context.js';
import { errors, pageOf, queryFlag, timestamp, uuidParam } from '../schemas/common.js';
import { deviceSchema } from '../schemas/resources.js';

const kind = z.enum(['terminal', 'mobile']);
// Strict: a field this route does not take is refused, not dropped. `protocol: "push"` with a
// serial number used to create an ordinary v4 device and leave the terminal pending (issue 27
// §5): PUSH terminals are registered by POST /api/push/terminals.
const createBody = z.strictObject({
  school_id: z.number().int().positive().optional().describe("Required for backoffice; a school admin's own school by default"),
  name: z.string().min(1).max(200),
  kind: kind.default('terminal'),
  sync_interval_seconds: z.number().int().min(10).max(86_400).optional(),
});
const updateBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  kind: kind.optional(),
  sync_interval_seconds: z.number().int().min(10).max(86_400).optional(),
});
export const withSecret = deviceSchema.extend({
  secret: z.string().describe('Shown once: store it on the device'),
  enrol_uri: z.string().describe('attendance-sync://enrol?v=1&server=…&device=…&secret=… (docs/DEVICES.md): shown once, holds the secret'),
  enrol_qr: z.string().describe('The enrol_uri as a QR code: a data: URL of a PNG image'),
});

/** What the mobile app scans to enrol (docs/DEVICES.md): the server, the device id and its secret. */
async function enrolment(ctx: AppContext, req: Request, deviceId: string, secret: string) {
  const uri = enrolUri(publicBase(ctx, req), deviceId, secret);
  return { enrol_uri: uri, enrol_qr: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, scale: 6 }) };
}

export const channelHealthSchema = z.object({
  status: z.number().int().describe('0 idle, 1 processing, 2 package ready'),
  session_id: z.uuid().nullable(),
  changed_at: timestamp,
  last_acknowledged_at: timestamp.nullable().describe('The last batch of this channel imported and acknowledged'),
  ack_overdue: z.boolean().describe('In status 2 for longer than ACK_STUCK_AFTER_SECONDS'),
  processing_overdue: z.boolean().describe('In status 1 for longer than SYNC_STUCK_AFTER_SECONDS'),
});
export const deviceHealthSchema = deviceSchema.extend({
  channels: z.record(z.string(), channelHealthSchema).describe('Per channel that has synced at least once'),
  pending_flags: z.array(z.string()).describe('Names of the flags waiting for the next package'),
  last_successful_sync_at: timestamp.nullable().describe('The last sync acknowledged by the device, any channel'),
  complete_until: timestamp.describe('The device clock at its last sync (its registration before): every record up to it has arrived'),
  behind_since: timestamp.nullable().describe('complete_until when it is older than the sync interval: figures after it may still change; null for a disabled device'),
  attention_reasons: z.array(z.enum(ATTENTION_REASONS)).describe('stuck_processing: status 1 longer than SYNC_STUCK_AFTER_SECONDS; ack_overdue: status 2 longer than ACK_STUCK_AFTER_SECONDS; silent: not seen for longer than its sync interval; clock_off: clock skew above the protocol\'s suspect threshold (5 min). Empty for a disabled device'),
  needs_attention: z.boolean().describe('attention_reasons is not empty'),
}).meta({ id: 'DeviceWithHealth' });
const deviceDetailSchema = deviceHealthSchema.extend({
  reported_settings: z.record(z.string(), z.string()).nullable().describe('The settings.xml the device last sent (REPORT_SETTINGS)'),
});

/** The devices with their health, in two set-based reads whatever the page size. */
async function withHealth(db: DbOrTrx, ctx: AppContext, devices: PublicDevice[]) {
  const ids = devices.map((d) => d.id);
  // One school (a school admin, a school's list, one device): its reads name it; a back-office page over every school does not.
  const schools = new Set(devices.map((d) => d.school_id));
  const schoolId = schools.size === 1 ? devices[0].school_id : null;
  const [channels, pending] = await Promise.all([channelHealth(db, schoolId, ids, thresholds(ctx)), pendingFlagNames(db, schoolId, ids)]);
  const now = new Date();
  return devices.map((d) => {
    const mine = channels.filter((c) => c.device_id === d.id);
    const acked = mine.map((c) => c.last_acknowledged_at).filter((t): t is Date => t !== null);
    const reasons = attentionReasons({ ...d, channels: mine }, thresholds(ctx), now);
    const completeUntil = d.last_device_clock ?? d.created_at;
    const behind = d.disabled_at === null && now.getTime() - completeUntil.getTime() > d.sync_interval_seconds * 1000;
    return {
      ...d,
      channels: Object.fromEntries(mine.map(({ device_id: _, channel, ...c }) => [channel, c])),
      pending_flags: pending.get(d.id) ?? [],
      last_successful_sync_at: acked.length > 0 ? new Date(Math.max(...acked.map((t) => t.getTime()))) : null,
      complete_until: completeUntil,
      behind_since: behind ? completeUntil : null,
      attention_reasons: reasons,
      needs_attention: reasons.length > 0,
    };
  });
}

function thresholds(ctx: AppContext) {
  return { syncStuckAfterSeconds: ctx.config.syncStuckAfterSeconds, ackStuckAfterSeconds: ctx.config.ackStuckAfterSeconds };
}

async function deviceInScope(db: DbOrTrx, auth: StaffAuth, id: string) {
  const schoolId = await schoolOfRequest(db, auth, 'devices', id);
  const device = schoolId === null ? undefined : await findDevice(db, schoolId, id);
  assertInScope(auth, device?.school_id, 'device');
  return device!;
}

export function deviceRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/devices', summary: 'List devices in scope', tags: ['devices'], auth: 'staff',
    query: z.object({
      ...pageQuery,
      school_id: z.coerce.number().int().positive().optional(),
      attention: queryFlag.optional().describe('true: only devices that need attention (stuck in status 1 or 2, silent, clock off; see attention_reasons)'),
    }),
    responses: { 200: { description: 'A page of devices with their health', schema: pageOf(deviceHealthSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth, ctx }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const after = decodeCursor(query.cursor, z.uuid());
      const opts = { schoolId: scope ?? query.school_id ?? null, afterId: after, limit: query.limit + 1 };
      const rows = query.attention
        ? await listDevicesNeedingAttention(db, { ...opts, ...thresholds(ctx) })
        : await listDevices(db, opts);
      const page = toPage(rows, query.limit, (d) => d.id);
      return reply.ok({ ...page, items: await withHealth(db, ctx, page.items) });
    },
  });

  api.add({
    method: 'post', path: '/api/devices', summary: 'Register a device; answers its secret and enrolment QR code once', tags: ['devices'], auth: 'staff',
    body: createBody,
    responses: { 201: { description: 'Registered', schema: withSecret }, ...errors(401, 422) },
    async handler({ body, db, auth, ctx, req }) {
      const scope = schoolScope(auth);
      const schoolId = body.school_id ?? scope;
      if (schoolId === null) throw validationFailed([{ field: 'body.school_id', message: 'required' }]);
      if ((scope !== null && scope !== schoolId) || !(await findSchool(db, schoolId))) throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      const secret = generateDeviceSecret();
      const device = await insertDevice(db, { ...body, school_id: schoolId, secret_hash: hashDeviceSecret(secret) });
      await recordAudit(db, { staffId: auth.staffId, schoolId, action: 'device.register', subject: 'device', subjectId: null, details: { device_id: device.id, name: device.name, kind: device.kind } });
      return reply.created({ ...device, secret, ...(await enrolment(ctx, req, device.id, secret)) });
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id', summary: 'Show a device', tags: ['devices'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'The device with its health', schema: deviceDetailSchema }, ...errors(401, 404) },
    async handler({ params, db, auth, ctx }) {
      const [device] = await withHealth(db, ctx, [await deviceInScope(db, auth, params.id)]);
      return reply.ok({ ...device, reported_settings: await reportedSettings(db, device.school_id, params.id) });
    },
  });

  api.add({
    method: 'patch', path: '/api/devices/:id', summary: 'Update a device', tags: ['devices'], auth: 'staff',
    params: uuidParam, body: updateBody,
    responses: { 200: { description: 'Updated', schema: deviceSchema }, ...errors(401, 404, 422) },
    async handler({ params, body, db, auth }) {
      const current = await deviceInScope(db, auth, params.id);
      const updated = orNotFound(await updateDevice(db, current.school_id, params.id, body), 'device');
      await recordAudit(db, { staffId: auth.staffId, schoolId: current.school_id, action: 'device.update', subject: 'device', subjectId: null, details: { device_id: current.id, ...body } });
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/disable', summary: 'Disable a device: it can no longer sign in', tags: ['devices'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'Disabled', schema: deviceSchema }, ...errors(401, 404) },
    async handler({ params, db, ctx, auth }) {
      const current = await deviceInScope(db, auth, params.id);
      if (current.disabled_at) return reply.ok(current);
      const updated = await updateDevice(db, current.school_id, params.id, { disabled_at: new Date() });
      await recordAudit(db, { staffId: auth.staffId, schoolId: current.school_id, action: 'device.disable', subject: 'device', subjectId: null, details: { device_id: current.id } });
      // A PUSH terminal is refused by every api process (they cache terminals: api/context/poll-cache.ts):
      // the others when the NOTIFY reaches them, this one before it answers, so that a poll sent
      // after this answer is refused here whatever the notification's delay.
      if (current.serial_number) {
        await notifyTerminal(db, { serialNumber: current.serial_number });
        ctx.push.forget(current.serial_number);
      }
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/enable', summary: 'Enable a disabled device', tags: ['devices'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'Enabled', schema: deviceSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const current = await deviceInScope(db, auth, params.id);
      const updated = orNotFound(await updateDevice(db, current.school_id, params.id, { disabled_at: null }), 'device');
      if (current.disabled_at) await recordAudit(db, { staffId: auth.staffId, schoolId: current.school_id, action: 'device.enable', subject: 'device', subjectId: null, details: { device_id: current.id } });
      if (updated.serial_number) await notifyTerminal(db, { serialNumber: updated.serial_number });
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/devices/:id/secret', summary: 'Rotate the device secret; answers the new one and its enrolment QR code once', tags: ['devices'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'The new secret', schema: withSecret }, ...errors(401, 404) },
    async handler({ params, db, auth, ctx, req }) {
      const current = await deviceInScope(db, auth, params.id);
      const secret = generateDeviceSecret();
      const device = await updateDevice(db, current.school_id, params.id, { secret_hash: hashDeviceSecret(secret) });
      if (!device) throw notFound('device');
      await recordAudit(db, { staffId: auth.staffId, schoolId: device.school_id, action: 'device.rotate_secret', subject: 'device', subjectId: null, details: { device_id: device.id } });
      return reply.ok({ ...device, secret, ...(await enrolment(ctx, req, device.id, secret)) });
    },
  });
}

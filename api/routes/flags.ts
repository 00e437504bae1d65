// Special sync flags (docs/protocol/v4.md §6) as the backoffice drives them: set on a device or on every
// device of a school, list with their state, cancel while pending, read the audit trail.
// Setting and cancelling are backoffice only; school admins read their school's devices' flags.
// RESET_SESSION acts at once: the device's channels in status 1 or 2 are closed in the same
// transaction that records the flag (applied at once, with its events).
import { z } from 'zod';
import type { DbOrTrx, Trx } from '../../db/database.js';
import { deviceIdsOfSchool, findDevice } from '../../db/repositories/devices.js';
import {
  cancelFlag, FLAG_STATES, findFlag, findFlags, listFlagEvents, listFlags, recordAppliedFlag, requeueUnacknowledged, setFlags,
  settleExpired, type FlagEventRow, type FlagRow,
} from '../../db/repositories/flags.js';
import { findSchool } from '../../db/repositories/schools.js';
import { queueFlagCommands } from '../push/commands.js';
import { busyChannels, lockSessions } from '../../db/repositories/sessions.js';
import { resetState } from '../../db/repositories/sync.js';
import { Problem, notFound, type FieldError } from '../../shared/errors.js';
import { FLAG_NAMES, KNOWN_FLAGS, SERVER_SIDE_FLAGS, parseFlag, type FlagName } from '../../shared/protocol/flags.js';
import { resendSummary } from '../../shared/protocol/resend.js';
import { startOfLocalDay } from '../../shared/time/zoned.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest } from '../http/scope.js';
import { errors, idParam, instant, pageOf, timestamp, uuidParam } from '../schemas/common.js';

const flagBody = z.strictObject({
  name: z.string().max(64).describe(`One of ${FLAG_NAMES.join(', ')}`),
  params: z.unknown().optional().describe('RESEND_SINCE {"since": "YYYY-MM-DD"}; SET_SETTINGS {"<setting>": "<value>", ...}; the others {}'),
  expires_at: instant.optional().describe('After this instant a flag still pending is never delivered'),
});

const resendProgressSchema = z.object({
  since: z.string().nullable(),
  next_from: z.string().nullable().describe('Where the next window starts'),
  windows_done: z.number().int(),
  windows_total: z.number().int().describe('As of now while pending'),
  rows_received: z.number().int().describe('Rows of the covering batches whose occurred_at fell in their window'),
});

export const flagSchema = z.object({
  id: z.number().int(),
  device_id: z.uuid(),
  name: z.string(),
  params: z.record(z.string(), z.unknown()),
  state: z.enum(FLAG_STATES).describe('pending → delivered (in session delivered_in) → applied (on acknowledgement); or cancelled, or expired'),
  set_by: z.number().int().nullable().describe('The staff account that set it; null once that account is deleted'),
  set_by_email: z.string().nullable(),
  set_at: timestamp,
  expires_at: timestamp.nullable(),
  delivered_in: z.uuid().nullable(),
  delivered_at: timestamp.nullable(),
  applied_at: timestamp.nullable(),
  cancelled_at: timestamp.nullable(),
  progress: resendProgressSchema.nullable().describe('RESEND_SINCE only'),
}).meta({ id: 'DeviceFlag' });

const flagEventSchema = z.object({
  id: z.number().int(),
  flag_id: z.number().int(),
  flag_name: z.string(),
  action: z.enum(['set', 'replaced', 'cancelled', 'expired', 'delivered', 'requeued', 'applied']),
  staff_id: z.number().int().nullable().describe('Who did it; null for what the device or time did'),
  staff_email: z.string().nullable(),
  session_id: z.uuid().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  at: timestamp,
}).meta({ id: 'FlagEvent' });

const setResult = flagSchema.extend({ replaced: z.boolean().describe('A pending flag of that name was replaced (same id)') });
const deviceFlagParams = z.object({ id: z.uuid(), flagId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

function invalidFlag(fieldErrors: FieldError[]): Problem {
  return new Problem('validation_failed', fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors: fieldErrors, known_flags: KNOWN_FLAGS });
}

/** Name, parameters and expiry checked against the catalogue, before any database call. */
function checkFlagBody(body: z.output<typeof flagBody>, now: Date): { name: FlagName; params: Record<string, unknown>; expiresAt: Date | null } {
  const parsed = parseFlag(body.name, body.params);
  if (!parsed.ok) throw invalidFlag(parsed.errors);
  const expiresAt = body.expires_at ?? null;
  if (expiresAt && SERVER_SIDE_FLAGS.has(parsed.name)) throw invalidFlag([{ field: 'body.expires_at', message: `${parsed.name} acts at once: it cannot expire` }]);
  if (expiresAt && expiresAt <= now) throw invalidFlag([{ field: 'body.expires_at', message: 'must be in the future' }]);
  return { name: parsed.name, params: parsed.params, expiresAt };
}

/** RESEND_SINCE: `since` is a day of the school; it must have begun. */
function checkSince(name: FlagName, params: Record<string, unknown>, timeZone: string, now: Date): void {
  if (name !== 'RESEND_SINCE') return;
  if (startOfLocalDay(String(params.since), timeZone) >= now) throw invalidFlag([{ field: 'body.params.since', message: 'must be a day that has begun in the school\'s time zone' }]);
}

export function presentFlag(flag: FlagRow, timeZone: string, now: Date) {
  return {
    id: flag.id, device_id: flag.device_id, name: flag.name, params: flag.params, state: flag.state,
    set_by: flag.set_by, set_by_email: flag.set_by_email, set_at: flag.set_at, expires_at: flag.expires_at,
    delivered_in: flag.delivered_in, delivered_at: flag.delivered_at, applied_at: flag.applied_at, cancelled_at: flag.cancelled_at,
    progress: flag.name === 'RESEND_SINCE' ? resendSummary(flag, timeZone, now, flag.state === 'pending') : null,
  };
}

function presentEvent({ at_us: _, ...event }: FlagEventRow) {
  return event;
}

async function deviceInScope(db: DbOrTrx, auth: StaffAuth, id: string) {
  const schoolId = await schoolOfRequest(db, auth, 'devices', id);
  const device = schoolId === null ? undefined : await findDevice(db, schoolId, id);
  assertInScope(auth, device?.school_id, 'device');
  return device!;
}

async function schoolTimeZone(db: DbOrTrx, schoolId: number): Promise<string> {
  return (await findSchool(db, schoolId))?.timezone ?? 'UTC';
}

/**
 * RESET_SESSION on these devices: every channel in status 1 or 2 goes back to 0 (its session
 * locked first, as the worker does), flags its package carried become pending again; returns
 * what was closed per device, recorded on the flag's 'applied' event.
 */
async function resetSessions(trx: Trx, schoolId: number, deviceIds: readonly string[], staffId: number): Promise<Map<string, Record<string, unknown>>> {
  const busy = await busyChannels(trx, schoolId, deviceIds);
  await lockSessions(trx, schoolId, busy.flatMap((b) => (b.session_id ? [b.session_id] : [])));
  const closed = new Map<string, Array<{ channel: string; status: number; session_id: string }>>();
  for (const b of busy) {
    const sessionId = await resetState(trx, b.school_id, b.device_id, b.channel);
    if (!sessionId) continue;
    await requeueUnacknowledged(trx, sessionId, staffId);
    closed.set(b.device_id, [...(closed.get(b.device_id) ?? []), { channel: b.channel, status: b.status, session_id: sessionId }]);
  }
  return new Map(deviceIds.map((id) => [id, { closed_sessions: closed.get(id) ?? [] }]));
}

/** Sets one flag on these devices (all of one school) in the request's transaction. */
async function setOnDevices(trx: Trx, schoolId: number, deviceIds: readonly string[], flag: ReturnType<typeof checkFlagBody>, staffId: number, details?: Record<string, unknown>) {
  if (SERVER_SIDE_FLAGS.has(flag.name)) {
    const applied = await resetSessions(trx, schoolId, deviceIds, staffId);
    return recordAppliedFlag(trx, { schoolId, deviceIds, name: flag.name, params: flag.params, staffId, details, applied });
  }
  const set = await setFlags(trx, { schoolId, deviceIds, name: flag.name, params: flag.params, expiresAt: flag.expiresAt, staffId, details });
  // PUSH terminals get the flag as commands (docs/protocol/push.md §5); v4 devices with their next package.
  await queueFlagCommands(trx, schoolId, set.map((s) => s.id), new Date());
  return set;
}

export function flagRoutes(api: RouteRegistry): void {
  api.add({
    method: 'post', path: '/api/devices/:id/flags', summary: 'Set a special sync flag on a device (docs/protocol/v4.md §6)', tags: ['flags'], auth: 'backoffice',
    params: uuidParam, body: flagBody,
    responses: {
      201: { description: 'Set (a flag of that name still pending is replaced: same id, newer parameters); RESET_SESSION is applied at once', schema: setResult },
      ...errors(401, 403, 404, 422),
    },
    async handler({ params, body, db: trx, auth }) {
      const now = new Date();
      const flag = checkFlagBody(body, now);
      const device = await deviceInScope(trx, auth, params.id);
      const timeZone = await schoolTimeZone(trx, device.school_id);
      checkSince(flag.name, flag.params, timeZone, now);
      const [set] = await setOnDevices(trx, device.school_id, [device.id], flag, auth.staffId);
      const [row] = await findFlags(trx, device.school_id, [set.id]);
      return reply.created({ ...presentFlag(row, timeZone, now), replaced: set.replaced });
    },
  });

  api.add({
    method: 'post', path: '/api/schools/:id/flags', summary: 'Set one special sync flag on every device of a school', tags: ['flags'], auth: 'backoffice',
    params: idParam, body: flagBody,
    responses: {
      201: { description: 'One flag per device of the school (disabled ones included)', schema: z.object({ school_id: z.number().int(), name: z.string(), items: z.array(setResult) }) },
      ...errors(401, 403, 404, 422),
    },
    async handler({ params, body, db: trx, auth }) {
      const now = new Date();
      const flag = checkFlagBody(body, now);
      const school = await findSchool(trx, params.id);
      if (!school) throw notFound('school');
      checkSince(flag.name, flag.params, school.timezone, now);
      const set = await setOnDevices(trx, school.id, await deviceIdsOfSchool(trx, school.id), flag, auth.staffId, { school_id: school.id });
      const replaced = new Map(set.map((s) => [s.id, s.replaced]));
      const rows = await findFlags(trx, school.id, set.map((s) => s.id));
      return reply.created({
        school_id: school.id, name: flag.name,
        items: rows.map((r) => ({ ...presentFlag(r, school.timezone, now), replaced: replaced.get(r.id) ?? false })),
      });
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id/flags', summary: "A device's flags with their state, newest first", tags: ['flags'], auth: 'staff',
    params: uuidParam,
    query: z.object({ ...pageQuery, state: z.enum(FLAG_STATES).optional(), name: z.string().max(64).optional() }),
    responses: { 200: { description: 'A page of flags', schema: pageOf(flagSchema) }, ...errors(401, 404, 422) },
    transaction: true,
    async handler({ params, query, db, auth }) {
      const device = await deviceInScope(db, auth, params.id);
      await settleExpired(db, [device.id]);
      const before = decodeCursor(query.cursor, z.number().int());
      const rows = await listFlags(db, device.school_id, device.id, { state: query.state as FlagRow['state'] | undefined, name: query.name, beforeId: before, limit: query.limit + 1 });
      const timeZone = await schoolTimeZone(db, device.school_id);
      const now = new Date();
      const page = toPage(rows, query.limit, (f) => f.id);
      return reply.ok({ ...page, items: page.items.map((f) => presentFlag(f, timeZone, now)) });
    },
  });

  // Declared before /:flagId so that "events" is not read as a flag id.
  api.add({
    method: 'get', path: '/api/devices/:id/flags/events', summary: "The audit trail of a device's flags, newest first", tags: ['flags'], auth: 'staff',
    params: uuidParam,
    query: z.object({ ...pageQuery, flag_id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional() }),
    responses: { 200: { description: 'A page of flag events: who set, replaced or cancelled what and when; deliveries, applications, expiries', schema: pageOf(flagEventSchema) }, ...errors(401, 404, 422) },
    transaction: true,
    async handler({ params, query, db, auth }) {
      const device = await deviceInScope(db, auth, params.id);
      await settleExpired(db, [device.id]);
      const before = decodeCursor(query.cursor, z.object({ at_us: z.number().int(), id: z.number().int() }));
      const rows = await listFlagEvents(db, device.school_id, device.id, { flagId: query.flag_id, before, limit: query.limit + 1 });
      const page = toPage(rows, query.limit, (e) => ({ at_us: e.at_us, id: e.id }));
      return reply.ok({ ...page, items: page.items.map(presentEvent) });
    },
  });

  api.add({
    method: 'get', path: '/api/devices/:id/flags/:flagId', summary: 'One flag with its audit trail', tags: ['flags'], auth: 'staff',
    params: deviceFlagParams,
    responses: { 200: { description: 'The flag and its events, oldest first', schema: flagSchema.extend({ events: z.array(flagEventSchema) }) }, ...errors(401, 404) },
    transaction: true,
    async handler({ params, db, auth }) {
      const device = await deviceInScope(db, auth, params.id);
      await settleExpired(db, [device.id]);
      const flag = await findFlag(db, device.school_id, device.id, params.flagId);
      if (!flag) throw notFound('flag');
      const events = await listFlagEvents(db, device.school_id, device.id, { flagId: flag.id, before: null, limit: 1000 });
      return reply.ok({ ...presentFlag(flag, await schoolTimeZone(db, device.school_id), new Date()), events: events.reverse().map(presentEvent) });
    },
  });

  api.add({
    method: 'delete', path: '/api/devices/:id/flags/:flagId', summary: 'Cancel a pending flag (409 once delivered, applied, cancelled or expired)', tags: ['flags'], auth: 'backoffice',
    params: deviceFlagParams,
    responses: { 200: { description: 'Cancelled', schema: flagSchema }, ...errors(401, 403, 404, 409) },
    async handler({ params, db: trx, auth }) {
      const device = await deviceInScope(trx, auth, params.id);
      const result = await cancelFlag(trx, device.school_id, device.id, params.flagId, auth.staffId);
      if (!result.ok) {
        if (result.state === null) throw notFound('flag');
        throw new Problem('flag_not_pending', `The flag is ${result.state}: only a pending flag can be cancelled`, { state: result.state });
      }
      const flag = (await findFlag(trx, device.school_id, device.id, params.flagId))!;
      return reply.ok(presentFlag(flag, await schoolTimeZone(trx, device.school_id), new Date()));
    },
  });
}

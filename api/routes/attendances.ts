// `/api/attendances`: check-ins and check-outs. Staff read them in scope, post them from
// connected clients (validated as the device protocol validates a row, docs/protocol/v4.md §4) and
// delete them. A post or a delete updates the user's figures and raises a fever event in the
// request's own transaction, as an imported batch does. `Idempotency-Key` makes a post safe
// to retry: the same key and body answer the first result again, another body 409.
import type { Request } from 'express';
import { z } from 'zod';
import type { DbOrTrx } from '../../db/database.js';
import { deleteAttendance, findAttendance, insertAttendance, insertFeverEvent, listAttendances, withdrawCorrection, type PublicAttendance } from '../../db/repositories/attendances.js';
import { claimKey, recordAnswer, requestHash } from '../../db/repositories/idempotency.js';
import { deviceNames } from '../../db/repositories/devices.js';
import { findSchool } from '../../db/repositories/schools.js';
import { refreshUserDays } from '../../db/repositories/user-days.js';
import { findUser, lockUser } from '../../db/repositories/users.js';
import { Problem, notFound, validationFailed, type FieldError } from '../../shared/errors.js';
import { MAX_FUTURE_SKEW_MS, TEMPERATURE_MAX, TEMPERATURE_MIN } from '../../shared/protocol/codes.js';
import { EXPORT_MAX_ROWS, exportQuery, fileReply, langOf } from '../export/query.js';
import { attendancesTable } from '../export/tables.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, instantIdKey, encodeCursor, pageQuery } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest, schoolScope } from '../http/scope.js';
import { schoolOfRow } from '../../db/repositories/school-of.js';
import { errors, idParam, idQuery, instant, pageOf } from '../schemas/common.js';
import { attendanceSchema } from '../schemas/resources.js';

const attendanceType = z.enum(['checkin', 'checkout']);
const createBody = z.strictObject({
  user_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).describe("A user of the caller's school"),
  type: attendanceType,
  occurred_at: instant.describe('ISO 8601 with seconds and an offset or Z; at most 5 minutes ahead of the server clock'),
  temperature: z.number().min(TEMPERATURE_MIN).max(TEMPERATURE_MAX).nullable().optional().describe('°C, 28.0–43.0, stored to one decimal'),
  reason: z.string().trim().min(1).max(500).optional().describe('A correction: why staff enter it (a forgotten badge); shown with its author wherever the row is'),
});
const withdrawBody = z.strictObject({ reason: z.string().trim().min(1).max(500).describe('Why the correction is withdrawn') });
const createHeaders = z.object({
  'Idempotency-Key': z.string().min(1).max(200).optional()
    .describe('Retry-safe create: the same key with the same body answers the first result again; with another body 409'),
});
const listQuery = z.object({
  ...pageQuery,
  school_id: idQuery.optional().describe("Forced to a school admin's own school"),
  user_id: idQuery.optional(),
  from: instant.optional().describe('occurred_at ≥ from (ISO 8601 instant with offset or Z)'),
  to: instant.optional().describe('occurred_at < to (ISO 8601 instant with offset or Z)'),
  type: attendanceType.optional(),
  ...exportQuery,
});

/** The JSON a client receives: also what an idempotent replay answers, byte for byte. */
function present(row: PublicAttendance): Record<string, unknown> {
  return JSON.parse(JSON.stringify(row)) as Record<string, unknown>;
}

async function attendanceInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const schoolId = await schoolOfRequest(db, auth, 'attendances', id);
  const row = schoolId === null ? undefined : await findAttendance(db, schoolId, id);
  assertInScope(auth, row?.school_id, 'attendance');
  return row!;
}

/** The whole list as a file (no pages), in the school's zone (UTC across schools). */
async function attendancesFile(db: DbOrTrx, auth: StaffAuth, query: z.output<typeof listQuery>, req: Request) {
  const lang = langOf(query, req);
  let schoolId = schoolScope(auth) ?? query.school_id ?? null;
  let rows: Awaited<ReturnType<typeof listAttendances>> = [];
  let outOfScope = query.school_id !== undefined && query.school_id !== schoolId;
  if (!outOfScope && query.user_id !== undefined) {
    const userSchool = schoolId ?? await schoolOfRow(db, 'users', query.user_id);
    const user = userSchool === undefined ? undefined : await findUser(db, userSchool, query.user_id);
    outOfScope = !user || (schoolId !== null && user.school_id !== schoolId);
    if (user) schoolId = user.school_id;
  }
  if (!outOfScope) {
    rows = await listAttendances(db, { schoolId, userId: query.user_id, from: query.from, to: query.to, type: query.type, after: null, limit: EXPORT_MAX_ROWS + 1 });
    if (rows.length > EXPORT_MAX_ROWS) throw validationFailed([{ field: 'query.from', message: `more than ${EXPORT_MAX_ROWS} rows: narrow the range` }]);
  }
  const school = schoolId === null || outOfScope ? undefined : await findSchool(db, schoolId);
  const names = await deviceNames(db, schoolId, [...new Set(rows.flatMap((r) => (r.device_id ? [r.device_id] : [])))]);
  const table = attendancesTable(rows.map((r) => ({ ...r, device_name: r.device_id ? names.get(r.device_id) ?? r.device_id : null })), school?.timezone ?? 'UTC', lang);
  return fileReply(table, query.format as 'csv' | 'xlsx', query, req, `${school?.name ?? 'all-schools'}-attendances${query.user_id ? `-${query.user_id}` : ''}`);
}

export function attendanceRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/attendances', summary: 'List attendances in scope, by (occurred_at, id)', tags: ['attendances'], auth: 'staff',
    query: listQuery,
    responses: { 200: { description: 'A page of attendances', schema: pageOf(attendanceSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth, req }) {
      const empty = reply.ok({ items: [], next_cursor: null });
      if (query.format !== 'json') return attendancesFile(db, auth, query, req);
      if (query.from && query.to && query.from > query.to) throw validationFailed([{ field: 'query.to', message: 'must not be before from' }]);
      let schoolId = schoolScope(auth) ?? query.school_id ?? null;
      if (query.school_id !== undefined && query.school_id !== schoolId) return empty;
      if (query.user_id !== undefined) {
        // The user's school narrows the scan to attendances_user_time.
        const userSchool = schoolId ?? await schoolOfRow(db, 'users', query.user_id);
        const user = userSchool === undefined ? undefined : await findUser(db, userSchool, query.user_id);
        if (!user || (schoolId !== null && user.school_id !== schoolId)) return empty;
        schoolId = user.school_id;
      }
      const after = decodeCursor(query.cursor, instantIdKey);
      const rows = await listAttendances(db, {
        schoolId, userId: query.user_id, from: query.from, to: query.to, type: query.type,
        after: after && { at: after[0], id: after[1] }, limit: query.limit + 1,
      });
      const items = rows.slice(0, query.limit);
      const last = items[items.length - 1];
      return reply.ok({
        items: items.map(({ cursor_at: _key, ...row }) => row),
        next_cursor: rows.length > query.limit ? encodeCursor([last.cursor_at, last.id]) : null,
      });
    },
  });

  api.add({
    method: 'post', path: '/api/attendances', summary: 'Record a check-in or check-out from a connected client', tags: ['attendances'], auth: 'staff',
    headers: createHeaders, body: createBody,
    responses: {
      201: { description: 'Recorded (or, for a repeated Idempotency-Key, the first answer again with Idempotent-Replayed: true)', schema: attendanceSchema },
      ...errors(401, 409, 422),
    },
    async handler({ body, headers, db: trx, auth }) {
      const key = headers['Idempotency-Key'];
      if (key !== undefined) {
        const hash = requestHash({ ...body, occurred_at: body.occurred_at.toISOString(), temperature: body.temperature ?? null, reason: body.reason ?? undefined });
        const claim = await claimKey(trx, auth.staffId, key, hash);
        if (claim.kind === 'mismatch') throw new Problem('idempotency_key_reused', 'This Idempotency-Key was used with another body');
        if (claim.kind === 'replay') return reply.status(claim.status, claim.body, { 'Idempotent-Replayed': 'true' });
      }

      const problems: FieldError[] = [];
      const scope = schoolScope(auth);
      const userSchool = scope ?? await schoolOfRow(trx, 'users', body.user_id);
      const user = userSchool === undefined ? undefined : await lockUser(trx, userSchool, body.user_id);
      // As the protocol's unknown_user: a missing user and another school's look the same.
      if (!user || (scope !== null && user.school_id !== scope)) problems.push({ field: 'body.user_id', message: 'unknown user' });
      else if (user.deleted_at && body.occurred_at >= user.deleted_at) problems.push({ field: 'body.user_id', message: 'the user was deactivated before occurred_at' });
      if (body.occurred_at.getTime() > Date.now() + MAX_FUTURE_SKEW_MS) problems.push({ field: 'body.occurred_at', message: 'in the future' });
      if (problems.length > 0) throw validationFailed(problems);

      const school = (await findSchool(trx, user!.school_id))!;
      const row = await insertAttendance(trx, {
        school_id: school.id, user_id: user!.id, device_id: null, record_id: null, type: body.type,
        occurred_at: body.occurred_at, temperature: body.temperature ?? null, photo: null, session_id: null,
        created_by: auth.staffId, idempotency_key: key ?? null, reason: body.reason ?? null,
      });
      // Compared once stored, i.e. rounded to one decimal as the threshold is.
      if (row.temperature !== null && row.temperature >= school.fever_threshold) await insertFeverEvent(trx, { ...row, temperature: row.temperature });
      await refreshUserDays(trx, [{ schoolId: row.school_id, userId: row.user_id, occurredAt: row.occurred_at }]);

      const out = present(row);
      if (key !== undefined) await recordAnswer(trx, auth.staffId, key, 201, out);
      return reply.created(out, { Location: `/api/attendances/${row.id}` });
    },
  });

  api.add({
    method: 'post', path: '/api/attendances/:id/withdraw', summary: 'Withdraw a correction: a new row cancels it (both kept, with their authors); the figures follow', tags: ['attendances'], auth: 'staff',
    params: idParam, body: withdrawBody,
    responses: { 201: { description: 'The withdrawal row', schema: attendanceSchema }, ...errors(401, 404, 409, 422) },
    async handler({ params, body, db: trx, auth }) {
      const found = await attendanceInScope(trx, auth, params.id);
      await lockUser(trx, found.school_id, found.user_id);
      if (found.device_id !== null || found.cancels_id !== null) throw new Problem('not_a_correction', 'Only a correction entered by staff can be withdrawn; a device row can be deleted');
      // Same user, type and instant as the correction: the same user-day, where both drop out of the pairing.
      const row = await withdrawCorrection(trx, found, auth.staffId, body.reason);
      if (!row) throw new Problem('already_withdrawn', 'This correction was already withdrawn');
      await refreshUserDays(trx, [{ schoolId: row.school_id, userId: row.user_id, occurredAt: row.occurred_at }]);
      return reply.created(present(row), { Location: `/api/attendances/${row.id}` });
    },
  });

  api.add({
    method: 'get', path: '/api/attendances/:id', summary: 'Show an attendance', tags: ['attendances'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The attendance', schema: attendanceSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      return reply.ok(await attendanceInScope(db, auth, params.id));
    },
  });

  api.add({
    method: 'delete', path: '/api/attendances/:id', summary: 'Delete an attendance (a device row too); the figures follow', tags: ['attendances'], auth: 'staff',
    params: idParam,
    responses: { 204: { description: 'Deleted, with its fever event' }, ...errors(401, 404, 422) },
    async handler({ params, db: trx, auth }) {
      const found = await attendanceInScope(trx, auth, params.id);
      await lockUser(trx, found.school_id, found.user_id);
      const row = await deleteAttendance(trx, found.school_id, params.id);
      if (!row) throw notFound('attendance');
      await refreshUserDays(trx, [{ schoolId: row.school_id, userId: row.user_id, occurredAt: row.occurred_at }]);
      return reply.noContent();
    },
  });
}

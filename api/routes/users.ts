// `/api/users`: the people whose attendance is recorded. School admins manage their own
// school's users; DELETE deactivates (sets deleted_at), the row and its history stay, and a
// deactivated user leaves lists unless `include_deleted=true`. A user never changes school.
// Every write is audited (db/repositories/staff-audit.ts). A roster file (CSV or XLSX) is previewed,
// each row's action or problem named, then applied: idempotent on badge (shared/csv/roster-import.ts).
// A user created with a badge, or given one, has the punches its school held for that badge
// (docs/protocol/push.md §4 "held punches") imported in the same transaction, once.
import multer from 'multer';
import { z } from 'zod';
import { recordAudit } from '../../db/repositories/staff-audit.js';
import { insertUsers, reactivateUser, usersByBadge } from '../../db/repositories/users.js';
import { Problem } from '../../shared/errors.js';
import { planRosterImport, rosterHeader, RosterHeaderError, ROSTER_IMPORT_MAX_BYTES, type RosterRowPlan } from '../../shared/csv/roster-import.js';
import { readRosterFile } from '../roster/read-roster-file.js';
import type { DbOrTrx, Trx } from '../../db/database.js';
import { deactivateUser, findUser, insertUser, listUsers, updateUser, type PublicUser } from '../../db/repositories/users.js';
import { importHeldForUser } from '../../db/repositories/held-punches.js';
import { findSchool } from '../../db/repositories/schools.js';
import { notFound, validationFailed } from '../../shared/errors.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest, schoolScope } from '../http/scope.js';
import { errors, idParam, idQuery, localDate, pageOf, queryFlag } from '../schemas/common.js';
import { userSchema } from '../schemas/resources.js';

const userFields = {
  name: z.string().trim().min(1).max(200),
  badge: z.string().min(1).max(64).describe('Unique in the school, deactivated users included'),
  enrolled_on: localDate.describe('YYYY-MM-DD: the user counts in the figures from this day on'),
};
const createBody = z.strictObject({
  school_id: z.number().int().positive().optional().describe("Required for backoffice; a school admin's own school by default"),
  name: userFields.name,
  badge: userFields.badge,
  enrolled_on: userFields.enrolled_on.optional().describe('YYYY-MM-DD; the day of creation by default'),
});
const replaceBody = z.strictObject(userFields);
const patchBody = replaceBody.partial();
const listQuery = z.object({
  ...pageQuery,
  school_id: idQuery.optional().describe("Forced to a school admin's own school"),
  q: z.string().min(1).max(200).optional().describe('Name or badge contains this, ignoring case and accents ("chloe" finds Chloé)'),
  include_deleted: queryFlag.default(false).describe('Also list deactivated users'),
});

/** What a change did, for the audit trail: the fields given and their values before. */
function changes(before: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).filter(([k, v]) => before[k] !== v).map(([k, v]) => [k, { from: before[k], to: v }]));
}

const importBody = z.object({
  school_id: idQuery.optional().describe("Required for backoffice; a school admin's own school by default"),
  apply: queryFlag.default(false).describe('false (default): preview only; true: apply the rows without a problem'),
});
const rowPlanSchema = z.object({
  line: z.number().int(), name: z.string(), badge: z.string(), enrolled_on: z.string().nullable(),
  action: z.enum(['create', 'update', 'deactivate', 'reactivate', 'unchanged', 'error']),
  problem: z.string().nullable().describe('Why the row is refused: malformed_row, name_missing, name_too_long, badge_missing, badge_too_long, badge_repeated, enrolled_on_invalid, active_invalid, formula, inactive_unknown'),
  user_id: z.number().int().nullable(), first_line: z.number().int().optional(),
});
export const importAnswer = z.object({
  school_id: z.number().int(), applied: z.boolean(), rows: z.array(rowPlanSchema),
  counts: z.record(z.string(), z.number().int()).describe('Rows per action'),
});

const rosterUpload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: ROSTER_IMPORT_MAX_BYTES, files: 1, fields: 4, parts: 6, fieldNameSize: 64, fieldSize: 64, headerPairs: 50 },
}).single('file');

function receiveRoster(req: import('express').Request, res: import('express').Response, next: import('express').NextFunction): void {
  if (!req.is('multipart/form-data')) return next(new Problem('unsupported_media_type', 'Send multipart/form-data with one file field named "file"'));
  rosterUpload(req, res, (err: unknown) => {
    if (err instanceof multer.MulterError && err.code === 'LIMIT_FILE_SIZE') {
      return next(new Problem('payload_too_large', `The file is larger than ${ROSTER_IMPORT_MAX_BYTES} bytes`, { max_bytes: ROSTER_IMPORT_MAX_BYTES }));
    }
    if (err) return next(new Problem('bad_request', 'Malformed upload'));
    if (!req.file) return next(new Problem('bad_request', 'No file field named "file" in the upload'));
    next();
  });
}

async function userInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const schoolId = await schoolOfRequest(db, auth, 'users', id);
  const user = schoolId === null ? undefined : await findUser(db, schoolId, id);
  assertInScope(auth, user?.school_id, 'user');
  return user!;
}

async function applyRoster(db: Trx, auth: StaffAuth, schoolId: number, rows: RosterRowPlan[], fileName: string, counts: Record<string, number>): Promise<void> {
  const now = new Date();
  const created = await insertUsers(db, rows.filter((r) => r.action === 'create')
    .map((r) => ({ school_id: schoolId, name: r.name, badge: r.badge, ...(r.enrolled_on && { enrolled_on: r.enrolled_on }) })));
  for (const u of created) await withHeldPunches(db, u);
  for (const r of rows) {
    if (r.action === 'update') await updateUser(db, schoolId, r.user_id!, { name: r.name });
    else if (r.action === 'deactivate') await deactivateUser(db, schoolId, r.user_id!, now);
    else if (r.action === 'reactivate') await reactivateUser(db, schoolId, r.user_id!);
  }
  await recordAudit(db, {
    staffId: auth.staffId, schoolId, action: 'users.import', subject: 'roster_import', subjectId: null,
    details: {
      file: fileName.slice(0, 200), counts,
      created: created.map((u) => u.id),
      changed: rows.filter((r) => ['update', 'deactivate', 'reactivate'].includes(r.action)).map((r) => ({ user_id: r.user_id, action: r.action })),
    },
  });
}

/** The roster gained this user's badge: its school's held punches for it become its attendances now, once. */
async function withHeldPunches<U extends PublicUser | undefined>(trx: Trx, user: U): Promise<U> {
  if (user) await importHeldForUser(trx, { id: Number(user.id), school_id: Number(user.school_id), badge: user.badge });
  return user;
}

export function userRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/users', summary: 'List users in scope', tags: ['users'], auth: 'staff',
    query: listQuery,
    responses: { 200: { description: 'A page of users, by id', schema: pageOf(userSchema) }, ...errors(401, 422) },
    async handler({ query, db, auth }) {
      const scope = schoolScope(auth);
      if (scope !== null && query.school_id !== undefined && query.school_id !== scope) return reply.ok({ items: [], next_cursor: null });
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await listUsers(db, {
        schoolId: scope ?? query.school_id ?? null, q: query.q, includeDeleted: query.include_deleted, afterId: after, limit: query.limit + 1,
      });
      return reply.ok(toPage(rows, query.limit, (u) => u.id));
    },
  });

  api.add({
    method: 'post', path: '/api/users', summary: 'Create a user', tags: ['users'], auth: 'staff',
    body: createBody,
    responses: { 201: { description: 'Created', schema: userSchema }, ...errors(401, 409, 422) },
    async handler({ body, db, auth }) {
      const scope = schoolScope(auth);
      const schoolId = body.school_id ?? scope;
      if (schoolId === null) throw validationFailed([{ field: 'body.school_id', message: 'required' }]);
      // Another school's id gets the same answer as a missing one: nothing leaks.
      if ((scope !== null && scope !== schoolId) || !(await findSchool(db, schoolId))) {
        throw validationFailed([{ field: 'body.school_id', message: 'no such school' }]);
      }
      const { school_id: _given, ...fields } = body;
      const user = await withHeldPunches(db, await insertUser(db, { ...fields, school_id: schoolId }));
      await recordAudit(db, { staffId: auth.staffId, schoolId, action: 'user.create', subject: 'user', subjectId: user.id, details: { name: user.name, badge: user.badge } });
      return reply.created(user);
    },
  });

  api.add({
    method: 'get', path: '/api/users/:id', summary: 'Show a user (deactivated ones too)', tags: ['users'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'The user', schema: userSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      return reply.ok(await userInScope(db, auth, params.id));
    },
  });

  api.add({
    method: 'put', path: '/api/users/:id', summary: 'Replace the editable fields of a user (all required)', tags: ['users'], auth: 'staff',
    params: idParam, body: replaceBody,
    responses: { 200: { description: 'Updated', schema: userSchema }, ...errors(401, 404, 409, 422) },
    async handler({ params, body, db, auth }) {
      const before = await userInScope(db, auth, params.id);
      const user = await withHeldPunches(db, await updateUser(db, before.school_id, params.id, body));
      await recordAudit(db, { staffId: auth.staffId, schoolId: before.school_id, action: 'user.update', subject: 'user', subjectId: before.id, details: changes(before, body) });
      return reply.ok(user);
    },
  });

  api.add({
    method: 'patch', path: '/api/users/:id', summary: 'Change the given fields of a user', tags: ['users'], auth: 'staff',
    params: idParam, body: patchBody,
    responses: { 200: { description: 'Updated', schema: userSchema }, ...errors(401, 404, 409, 422) },
    async handler({ params, body, db, auth }) {
      const user = await userInScope(db, auth, params.id);
      if (Object.keys(body).length === 0) return reply.ok(user);
      const updated = await updateUser(db, user.school_id, params.id, body);
      await recordAudit(db, { staffId: auth.staffId, schoolId: user.school_id, action: 'user.update', subject: 'user', subjectId: user.id, details: changes(user, body) });
      return reply.ok(body.badge !== undefined && body.badge !== user.badge ? await withHeldPunches(db, updated) : updated);
    },
  });

  api.add({
    method: 'delete', path: '/api/users/:id', summary: 'Deactivate a user: attendances and figures stay', tags: ['users'], auth: 'staff',
    params: idParam,
    responses: { 204: { description: 'Deactivated (again: the first date stays)' }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      const user = await userInScope(db, auth, params.id);
      await deactivateUser(db, user.school_id, params.id, new Date());
      if (!user.deleted_at) await recordAudit(db, { staffId: auth.staffId, schoolId: user.school_id, action: 'user.deactivate', subject: 'user', subjectId: user.id });
      return reply.noContent();
    },
  });

  api.add({
    method: 'post', path: '/api/users/:id/reactivate', summary: 'Reactivate a deactivated user', tags: ['users'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'Active again', schema: userSchema }, ...errors(401, 404, 422) },
    async handler({ params, db, auth }) {
      const user = await userInScope(db, auth, params.id);
      if (!user.deleted_at) return reply.ok(user);
      const updated = await reactivateUser(db, user.school_id, params.id);
      await recordAudit(db, { staffId: auth.staffId, schoolId: user.school_id, action: 'user.reactivate', subject: 'user', subjectId: user.id });
      return reply.ok(updated);
    },
  });

  api.add({
    method: 'post', path: '/api/users/import', summary: 'Preview or apply a roster file (CSV or XLSX)', tags: ['users'], auth: 'staff',
    description: 'A CSV or XLSX file with the columns of roster.csv (`name`, `badge`, optional `active` 1/0 and `user_id`, ignored) and an optional '
      + '`enrolled_on` (YYYY-MM-DD), at most 5,000 rows and 2 MiB. Rows are matched to the school\'s users by badge: each is answered with what '
      + 'applying does (create, update the name, deactivate, reactivate, unchanged) or the problem that refuses it. `apply=true` applies every '
      + 'row without a problem; applying the same file again changes nothing.',
    middleware: [receiveRoster],
    requestBody: { contentType: 'multipart/form-data', schema: importBody.extend({ file: z.string().meta({ format: 'binary' }) }) },
    responses: { 200: { description: 'Each row with its action or problem', schema: importAnswer }, ...errors(400, 401, 413, 415, 422) },
    async handler({ db, auth, req }) {
      // Multipart fields, validated here: the route's `body` is for JSON.
      const parsed = importBody.safeParse(req.body ?? {});
      if (!parsed.success) throw validationFailed(parsed.error.issues.map((i) => ({ field: ['body', ...i.path.map(String)].join('.'), message: i.message })));
      const body = parsed.data;
      const scope = schoolScope(auth);
      const schoolId = body.school_id ?? scope;
      if (schoolId === null) throw validationFailed([{ field: 'body.school_id', message: 'required' }]);
      if ((scope !== null && scope !== schoolId) || !(await findSchool(db, schoolId))) throw notFound('school');
      const file = await readRosterFile(req.file!.buffer);
      let header;
      try {
        header = rosterHeader(file.header);
      } catch (err) {
        if (err instanceof RosterHeaderError) throw new Problem('roster_file_invalid', `The header line is wrong: ${err.message}`);
        throw err;
      }
      const badgeAt = header.get('badge')!;
      const badges = [...new Set(file.rows.map((r) => (r.cells[badgeAt] ?? '').trim()).filter((b) => b !== '' && b.length <= 64))];
      const existing = new Map((await usersByBadge(db, schoolId, badges)).map((u) => [u.badge, { id: u.id, name: u.name, badge: u.badge, deleted: u.deleted_at !== null }]));
      const rows = planRosterImport(header, file.rows, existing);
      const counts: Record<string, number> = {};
      for (const r of rows) counts[r.action] = (counts[r.action] ?? 0) + 1;
      if (body.apply) await applyRoster(db, auth, schoolId, rows, req.file!.originalname, counts);
      return reply.ok({ school_id: schoolId, applied: body.apply, rows, counts });
    },
  });
}

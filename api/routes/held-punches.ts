// Held punches (docs/protocol/push.md §4 "held punches", docs/protocol/v4.md §4.5 "held rows", issue #27):
// punches refused as unknown_user (a PUSH PIN or a v4 user_id no user of the school carries) or
// as in_future (a suspect clock), kept on the server. Staff see them per device, PIN and reason,
// import a PIN's as one of the school's users, once, or discard them; who did is on the rows.
import { z } from 'zod';
import { discardHeldPunches, heldPinOwner, importHeldPunches, listHeldPunches, type HeldSelector } from '../../db/repositories/held-punches.js';
import { findSchool } from '../../db/repositories/schools.js';
import { findUser } from '../../db/repositories/users.js';
import { validationFailed } from '../../shared/errors.js';
import type { DbOrTrx } from '../../db/database.js';
import type { StaffAuth } from '../http/authenticate.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope } from '../http/scope.js';
import { errors, idParam, timestamp } from '../schemas/common.js';

const REASONS = ['unknown_user', 'in_future'] as const;

export const heldGroupSchema = z.object({
  device_id: z.uuid(),
  device_name: z.string(),
  source: z.enum(['push', 'v4']).describe('push: a PUSH terminal\'s line (pin is its PIN); v4: an attendances.csv row (pin is the user_id the device sent)'),
  reason: z.enum(REASONS).describe('unknown_user: no user of the school has this PIN; in_future: the terminal\'s clock was ahead (suspect clock)'),
  pin: z.string().describe('The PIN (PUSH) or user_id (v4) the device sent'),
  punches: z.number().int().describe('Punches held from this device for this PIN and reason, neither imported nor discarded'),
  with_temperature: z.number().int().describe('Of them, punches with a temperature (an import raises a fever event for one at or above the school\'s threshold)'),
  first_at: timestamp,
  last_at: timestamp,
  user: z.object({ id: z.number().int(), name: z.string() }).nullable()
    .describe('The school\'s user who now carries this PIN as badge (v4: or as id): the roster gained it, a release or import without user_id goes to them'),
}).meta({ id: 'HeldPunches' });

const selectorFields = {
  pin: z.string().min(1).max(64).describe('The PIN (PUSH) or user_id (v4) whose held punches are taken'),
  reason: z.enum(REASONS).default('unknown_user').describe('Which of its held punches: unknown_user (default) or in_future'),
  device_id: z.uuid().optional().describe('Only this device\'s; by default every device of the school'),
};

const importBody = z.strictObject({
  ...selectorFields,
  user_id: z.number().int().positive().optional()
    .describe('The school\'s user they are imported as (the user\'s badge is left as it is); by default the user who carries the PIN now'),
});

const discardBody = z.strictObject(selectorFields);

async function schoolInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const school = await findSchool(db, id);
  assertInScope(auth, school?.id, 'school');
  return school!;
}

const selector = (schoolId: number, body: { pin: string; reason: HeldSelector['reason']; device_id?: string | undefined }): HeldSelector =>
  ({ schoolId, pin: body.pin, reason: body.reason, deviceId: body.device_id });

export function heldPunchRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/schools/:id/held-punches',
    summary: 'Punches refused as unknown_user or in_future and held, per device, PIN and reason, neither imported nor discarded (docs/protocol/push.md §4)', tags: ['push'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'One row per device, PIN and reason, most recent first', schema: z.object({ items: z.array(heldGroupSchema) }) }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      const rows = await listHeldPunches(db, school.id);
      return reply.ok({
        items: rows.map((r) => ({
          device_id: r.device_id, device_name: r.device_name, source: r.source, reason: r.reason, pin: r.pin,
          punches: Number(r.punches), with_temperature: Number(r.with_temperature),
          first_at: new Date(r.first_at).toISOString(), last_at: new Date(r.last_at).toISOString(),
          user: r.user_id === null ? null : { id: Number(r.user_id), name: r.user_name ?? '' },
        })),
      });
    },
  });

  api.add({
    method: 'post', path: '/api/schools/:id/held-punches/import',
    summary: 'Import (release) the held punches of a PIN as a user\'s attendances, once: figures recomputed and fever events raised in the same transaction', tags: ['push'], auth: 'staff',
    params: idParam, body: importBody,
    responses: {
      200: {
        description: 'What was imported; a second call finds nothing held and imports 0',
        schema: z.object({
          imported: z.number().int().describe('Punches stored as the user\'s attendances'),
          already: z.number().int().describe('Held punches the server already stored (same terminal, PIN and local time, or same device and record id): marked imported, not stored twice'),
        }),
      },
      ...errors(401, 404, 422),
    },
    async handler({ params, body, db: trx, auth }) {
      const school = await schoolInScope(trx, auth, params.id);
      const userId = body.user_id ?? await heldPinOwner(trx, school.id, body.pin);
      if (userId === null) throw validationFailed([{ field: 'body.user_id', message: 'required: no user of this school carries this PIN' }]);
      const user = await findUser(trx, school.id, userId);
      if (!user || user.school_id !== school.id) throw validationFailed([{ field: 'body.user_id', message: 'no such user in this school' }]);
      return reply.ok(await importHeldPunches(trx, selector(school.id, body), user.id, auth.staffId));
    },
  });

  api.add({
    method: 'post', path: '/api/schools/:id/held-punches/discard',
    summary: 'Discard the held punches of a PIN: never imported, no longer listed; who and when stay on them', tags: ['push'], auth: 'staff',
    params: idParam, body: discardBody,
    responses: {
      200: { description: 'How many were discarded (0 when none was held)', schema: z.object({ discarded: z.number().int() }) },
      ...errors(401, 404, 422),
    },
    async handler({ params, body, db: trx, auth }) {
      const school = await schoolInScope(trx, auth, params.id);
      return reply.ok({ discarded: await discardHeldPunches(trx, selector(school.id, body), auth.staffId) });
    },
  });
}

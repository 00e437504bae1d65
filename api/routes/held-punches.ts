// Held punches (docs/protocol/push.md §4 "held punches", issue #27): PUSH punches refused for a PIN
// no user of the school carries, kept on the server. Staff see them per terminal and PIN and
// import a PIN's as one of the school's users, once.
import { z } from 'zod';
import { importHeldPunches, listHeldPunches } from '../../db/repositories/held-punches.js';
import { findSchool } from '../../db/repositories/schools.js';
import { findUser } from '../../db/repositories/users.js';
import { validationFailed } from '../../shared/errors.js';
import type { DbOrTrx } from '../../db/database.js';
import type { StaffAuth } from '../http/authenticate.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope } from '../http/scope.js';
import { errors, idParam, timestamp } from '../schemas/common.js';

const heldGroupSchema = z.object({
  device_id: z.uuid(),
  device_name: z.string(),
  pin: z.string().describe('The PIN the terminal sent: no user of the school has it as badge'),
  punches: z.number().int().describe('Punches of this PIN held from this terminal, not imported yet'),
  first_at: timestamp,
  last_at: timestamp,
}).meta({ id: 'HeldPunches' });

const importBody = z.strictObject({
  pin: z.string().min(1).max(64).describe('The PIN whose held punches are imported, from every terminal of the school'),
  user_id: z.number().int().positive().describe('The school\'s user they are imported as (the user\'s badge is left as it is)'),
});

async function schoolInScope(db: DbOrTrx, auth: StaffAuth, id: number) {
  const school = await findSchool(db, id);
  assertInScope(auth, school?.id, 'school');
  return school!;
}

export function heldPunchRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/schools/:id/held-punches',
    summary: 'PUSH punches refused as unknown_user and held, per terminal and PIN, not imported yet (docs/protocol/push.md §4)', tags: ['push'], auth: 'staff',
    params: idParam,
    responses: { 200: { description: 'One row per terminal and PIN, most recent first', schema: z.object({ items: z.array(heldGroupSchema) }) }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const school = await schoolInScope(db, auth, params.id);
      const rows = await listHeldPunches(db, school.id);
      return reply.ok({
        items: rows.map((r) => ({
          device_id: r.device_id, device_name: r.device_name, pin: r.pin, punches: Number(r.punches),
          first_at: new Date(r.first_at).toISOString(), last_at: new Date(r.last_at).toISOString(),
        })),
      });
    },
  });

  api.add({
    method: 'post', path: '/api/schools/:id/held-punches/import',
    summary: 'Import the held punches of a PIN as a user\'s attendances, once: figures recomputed in the same transaction', tags: ['push'], auth: 'staff',
    params: idParam, body: importBody,
    responses: {
      200: {
        description: 'What was imported; a second call finds nothing held and imports 0',
        schema: z.object({
          imported: z.number().int().describe('Punches stored as the user\'s attendances'),
          already: z.number().int().describe('Held punches the server already stored (same terminal, PIN and local time): marked imported, not stored twice'),
        }),
      },
      ...errors(401, 404, 422),
    },
    async handler({ params, body, db: trx, auth }) {
      const school = await schoolInScope(trx, auth, params.id);
      const user = await findUser(trx, body.user_id);
      if (!user || user.school_id !== school.id) throw validationFailed([{ field: 'body.user_id', message: 'no such user in this school' }]);
      return reply.ok(await importHeldPunches(trx, school.id, body.pin, user.id));
    },
  });
}

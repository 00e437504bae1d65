// Sync sessions history for staff: a device's sessions (newest first), one session with its
// rejections and the flags its package carried, the rejections paged, and the package itself.
// School admins see their school's devices' sessions; anything else is 404.
import { z } from 'zod';
import type { DbOrTrx } from '../../db/database.js';
import { findDevice } from '../../db/repositories/devices.js';
import {
  findSessionSummary, flagsDeliveredIn, listDeviceSessions, sessionPackage, sessionRejections, type SessionSummary,
} from '../../db/repositories/sessions.js';
import { Problem } from '../../shared/errors.js';
import { CHANNEL_NAMES } from '../../shared/protocol/channels.js';
import type { StaffAuth } from '../http/authenticate.js';
import { decodeCursor, pageQuery, toPage } from '../http/paging.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest } from '../http/scope.js';
import { errors, pageOf, timestamp, uuidParam } from '../schemas/common.js';

/** Rejections shown inline with a session; the rest through /rejections. */
const INLINE_REJECTIONS = 1000;

const fileCounts = z.object({ received: z.number().int(), accepted: z.number().int(), duplicates: z.number().int(), rejected: z.number().int(), high_water_mark: z.number().int() });

export const sessionSchema = z.object({
  id: z.uuid(),
  device_id: z.uuid(),
  channel: z.enum([...CHANNEL_NAMES, 'push']).describe('push: a PUSH terminal\'s ATTLOG batch (docs/protocol/push.md §4)'),
  state: z.enum(['processing', 'ready', 'acknowledged', 'closed']).describe('closed: ended without acknowledgement (RESET_SESSION)'),
  outcome: z.enum(['imported', 'partial', 'failed', 'reset']).nullable()
    .describe('null while processing; imported: every file of the batch; partial: imported except the files in file_errors (not readable: their rows come again); failed: nothing imported (processing_failed); reset: closed by RESET_SESSION'),
  received_at: timestamp,
  processed_at: timestamp.nullable(),
  acknowledged_at: timestamp.nullable(),
  archive_bytes: z.number().int(),
  archive_sha256: z.string(),
  archive_stored: z.boolean().describe('false once pruned after the retention period'),
  package_sha256: z.string().nullable(),
  device_clock: timestamp.nullable(),
  clock_skew_seconds: z.number().int().nullable(),
  attempts: z.number().int(),
  counts: z.object({ received: z.number().int(), accepted: z.number().int(), duplicates: z.number().int(), rejected: z.number().int() })
    .describe('Totals over the CSV logs of the batch'),
  rows_refused: z.enum(['none', 'some', 'all'])
    .describe('Whether the CSV logs\' rows were refused: all when the batch carried rows and every one was rejected (none accepted, none a duplicate), however its state reads; none when no row was rejected or the batch carried none'),
  files: z.record(z.string(), fileCounts).describe('Per CSV log (the package\'s <import> lines)'),
  rejection_count: z.number().int(),
  reset_by: z.object({ staff_id: z.number().int().nullable(), staff_email: z.string().nullable() }).nullable()
    .describe('Who closed it with RESET_SESSION; null otherwise'),
  file_errors: z.array(z.object({ file: z.string(), code: z.string(), detail: z.string().nullable() }))
    .describe('Files of the batch that were not imported, as the package\'s <error> lines (file_corrupt, xml_invalid, csv_invalid)'),
}).meta({ id: 'SyncSession' });

export const rejectionSchema = z.object({
  id: z.number().int(), file: z.string(), line: z.number().int(), record_id: z.string().nullable(), code: z.string(),
  detail: z.string().nullable().describe('What is wrong, the column and the value as sent (`expected 6 fields, got 5`, `type: "chekin" is not checkin or checkout`): the package\'s `detail` (docs/protocol/v4.md §4.5); null for rows refused before details were kept'),
});

const sessionDetailSchema = sessionSchema.extend({
  rejections: z.array(rejectionSchema).describe(`The first ${INLINE_REJECTIONS}; all of them through /api/sessions/{id}/rejections`),
  rejections_truncated: z.boolean(),
  flags: z.array(z.object({ id: z.number().int(), name: z.string(), params: z.record(z.string(), z.unknown()), applied_at: timestamp.nullable() }))
    .describe('Flags the package carried'),
  package_url: z.string().nullable(),
});

/** An acknowledged session whose rows were all refused must not read as a plain success (issue 30). */
function rowsRefused(c: { received: number; rejected: number }): 'none' | 'some' | 'all' {
  if (c.rejected === 0) return 'none';
  return c.rejected === c.received ? 'all' : 'some';
}

function presentSession(s: SessionSummary) {
  const files = s.stats ?? {};
  const counts = { received: 0, accepted: 0, duplicates: 0, rejected: 0 };
  for (const f of Object.values(files)) {
    counts.received += f.received;
    counts.accepted += f.accepted;
    counts.duplicates += f.duplicates;
    counts.rejected += f.rejected;
  }
  return {
    id: s.id, device_id: s.device_id, channel: s.channel, state: s.state, outcome: s.outcome,
    received_at: s.received_at, processed_at: s.processed_at, acknowledged_at: s.acked_at,
    archive_bytes: s.archive_bytes, archive_sha256: s.archive_sha256, archive_stored: s.archive_stored, package_sha256: s.package_sha256,
    device_clock: s.device_clock, clock_skew_seconds: s.clock_skew_seconds, attempts: s.attempts,
    counts, rows_refused: rowsRefused(counts), files, rejection_count: s.rejection_count, file_errors: s.file_errors ?? [], reset_by: s.reset_by,
  };
}

async function sessionInScope(db: DbOrTrx, auth: StaffAuth, id: string): Promise<SessionSummary> {
  const schoolId = await schoolOfRequest(db, auth, 'sync_sessions', id);
  const session = schoolId === null ? undefined : await findSessionSummary(db, schoolId, id);
  assertInScope(auth, session?.school_id, 'session');
  return session!;
}

export function sessionRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/devices/:id/sessions', summary: "A device's sync sessions, newest first", tags: ['sessions'], auth: 'staff',
    params: uuidParam,
    query: z.object({ ...pageQuery, channel: z.enum([...CHANNEL_NAMES, 'push']).optional() }),
    responses: { 200: { description: 'A page of sessions', schema: pageOf(sessionSchema) }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      const schoolId = await schoolOfRequest(db, auth, 'devices', params.id);
      const device = schoolId === null ? undefined : await findDevice(db, schoolId, params.id);
      assertInScope(auth, device?.school_id, 'device');
      const before = decodeCursor(query.cursor, z.object({ received_at_us: z.number().int(), id: z.uuid() }));
      const rows = await listDeviceSessions(db, device!.school_id, params.id, { channel: query.channel, before, limit: query.limit + 1 });
      const page = toPage(rows, query.limit, (s) => ({ received_at_us: s.received_at_us, id: s.id }));
      return reply.ok({ ...page, items: page.items.map(presentSession) });
    },
  });

  api.add({
    method: 'get', path: '/api/sessions/:id', summary: 'One sync session with its rejections and the flags it carried', tags: ['sessions'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'The session', schema: sessionDetailSchema }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const session = await sessionInScope(db, auth, params.id);
      const [rejections, flags] = await Promise.all([
        sessionRejections(db, session.session_school_id, session.id, { afterId: null, limit: INLINE_REJECTIONS + 1 }),
        flagsDeliveredIn(db, session.school_id, session.id),
      ]);
      return reply.ok({
        ...presentSession(session),
        rejections: rejections.slice(0, INLINE_REJECTIONS),
        rejections_truncated: rejections.length > INLINE_REJECTIONS,
        flags: flags.map((f) => ({ id: f.id, name: f.name, params: f.params, applied_at: f.applied_at })),
        package_url: session.package_sha256 ? `/api/sessions/${session.id}/package` : null,
      });
    },
  });

  api.add({
    method: 'get', path: '/api/sessions/:id/rejections', summary: "A session's rejected rows, in upload order", tags: ['sessions'], auth: 'staff',
    params: uuidParam, query: z.object(pageQuery),
    responses: { 200: { description: 'A page of rejections', schema: pageOf(rejectionSchema) }, ...errors(401, 404, 422) },
    async handler({ params, query, db, auth }) {
      const session = await sessionInScope(db, auth, params.id);
      const after = decodeCursor(query.cursor, z.number().int());
      const rows = await sessionRejections(db, session.session_school_id, session.id, { afterId: after, limit: query.limit + 1 });
      return reply.ok(toPage(rows, query.limit, (r) => r.id));
    },
  });

  api.add({
    method: 'get', path: '/api/sessions/:id/package', summary: 'Download the instruction package the device was given', tags: ['sessions'], auth: 'staff',
    params: uuidParam,
    responses: { 200: { description: 'The package (zip), as served to the device', contentType: 'application/zip' }, ...errors(401, 404) },
    async handler({ params, db, auth }) {
      const schoolId = await schoolOfRequest(db, auth, 'sync_sessions', params.id);
      const pkg = schoolId === null ? undefined : await sessionPackage(db, schoolId, params.id);
      assertInScope(auth, pkg?.school_id, 'session');
      if (!pkg!.package || !pkg!.package_sha256) throw new Problem('not_found', 'The session has no package yet: it is still being processed');
      return reply.raw(pkg!.package, 'application/zip', {
        ETag: `"${pkg!.package_sha256}"`,
        'Content-Disposition': `attachment; filename="instructions-${pkg!.id}.zip"`,
        'Cache-Control': 'private, no-store',
      });
    },
  });
}

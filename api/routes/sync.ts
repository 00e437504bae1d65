// The device protocol's calls for every channel (docs/protocol/v4.md §3): status, manifest, datas,
// instructions, ack. A device token only ever reaches its own device's state.
import { z } from 'zod';
import { acknowledge, findSessionOfDevice, pollState, readDeviceAndPackage, readState } from '../../db/repositories/sync.js';
import { Problem } from '../../shared/errors.js';
import { channelOf } from '../../channels/registry.js';
import { CHANNEL_NAMES } from '../../shared/protocol/channels.js';
import { SYNC_STATUS } from '../../shared/protocol/codes.js';
import { inactiveDevice } from '../http/authenticate.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { errors } from '../schemas/common.js';
import { acceptUpload } from '../sync/accept-upload.js';
import { buildManifest } from '../sync/manifest.js';
import { MAX_STATUS_WAIT_SECONDS } from '../context/status-waits.js';
import { uploadArchive, type UploadLimits } from '../sync/upload.js';

const channelParam = z.object({ channel: z.enum(CHANNEL_NAMES) });

const statusQuery = z.object({ wait: z.coerce.number().int().min(0).optional() });

const statusSchema = z.object({ status: z.union([z.literal(0), z.literal(1), z.literal(2)]), session_id: z.uuid().nullable(), changed_at: z.string() });

export function syncRoutes(api: RouteRegistry, limits: UploadLimits): void {
  api.add({
    method: 'get', path: '/v4/:channel/status', summary: 'The channel status flag (docs/protocol/v4.md §3.1)', tags: ['device protocol'], auth: 'device',
    // Polled by every device waiting for its package: one statement, no transaction. With
    // `wait`, one request instead of one every few hundred ms (api/context/status-waits.ts).
    params: channelParam, query: statusQuery, transaction: false,
    description: 'Optional `wait=N` (seconds, 0–30; more counts as 30): while the status is 1, the answer waits until it changes or N seconds pass, '
      + 'then gives the status as it is. Status 0 or 2 is answered at once. Servers without this extension ignore `wait` and answer at once '
      + '(docs/PROTOCOL-EXTENSIONS.md).',
    responses: { 200: { description: 'Status', schema: statusSchema }, ...errors(401, 404, 422) },
    async handler({ params, query, auth, db, ctx, onHangUp }) {
      const waitMs = Math.min(query.wait ?? 0, MAX_STATUS_WAIT_SECONDS) * 1000;
      // Registered before the read, so a change committed between the two still wakes this request.
      const wait = waitMs > 0 ? ctx.statusWaits.register(auth.deviceId, params.channel) : null;
      try {
        const state = await pollState(db, auth.schoolId, auth.deviceId, params.channel);
        if (!state || state.disabled) throw inactiveDevice();
        const answer = (s: { status: number | null; session_id: string | null; changed_at: Date | null }) =>
          reply.ok({ status: s.status ?? SYNC_STATUS.idle, session_id: s.session_id, changed_at: (s.changed_at ?? new Date()).toISOString() });
        if (!wait || state.status !== SYNC_STATUS.processing) return answer(state);
        // The response closing before it was written: the device hung up, stop waiting.
        let gone = false;
        const hungUp = () => { gone = true; wait.cancel(); };
        const stopListening = onHangUp(hungUp);
        const pushed = await wait.until(waitMs);
        stopListening();
        if (pushed) return answer(pushed);
        if (gone) return answer(state); // nobody is listening any more
        // Timed out, reconnected or stopping: the status as it is now.
        const now = await pollState(db, auth.schoolId, auth.deviceId, params.channel);
        if (!now || now.disabled) throw inactiveDevice();
        return answer(now);
      } finally {
        wait?.cancel();
      }
    },
  });

  api.add({
    method: 'get', path: '/v4/:channel/manifest', summary: 'What to send this time (docs/protocol/v4.md §3.2)', tags: ['device protocol'], auth: 'device',
    // Reads, and at most one write of its own (a RESEND_SINCE offer, one statement): a
    // transaction would only add BEGIN and COMMIT, and give no stronger guarantee at READ COMMITTED.
    params: channelParam, transaction: false,
    responses: {
      200: {
        description: 'Manifest',
        schema: z.object({
          files: z.array(z.object({ name: z.string(), required: z.boolean() })),
          high_water_marks: z.record(z.string(), z.number()),
          max_archive_bytes: z.number(),
          server_time: z.string(),
          resend: z.object({ file: z.string(), from: z.string(), to: z.string() }).optional(),
          photos_wanted: z.array(z.string()).optional(),
        }),
      },
      ...errors(401, 404),
    },
    async handler({ params, auth, db, ctx }) {
      // buildManifest checks the device itself, in the same read as the high-water marks.
      return reply.ok(await buildManifest(db, auth.schoolId, auth.deviceId, params.channel, ctx.config.maxArchiveBytes));
    },
  });

  api.add({
    method: 'post', path: '/v4/:channel/datas', summary: 'Upload a batch (docs/protocol/v4.md §3.3)', tags: ['device protocol'], auth: 'device',
    params: channelParam, transaction: false,
    middleware: [uploadArchive(limits)],
    requestBody: { contentType: 'multipart/form-data', schema: z.object({ archive: z.string().meta({ format: 'binary' }) }), description: 'One file field `archive`: a zip' },
    responses: {
      202: { description: 'Accepted: being processed', schema: z.object({ session_id: z.uuid(), status: z.number() }) },
      ...errors(400, 401, 404, 409, 413, 415, 503),
    },
    description: 'The device token is checked before the body is read. 503 `server_busy` with `Retry-After` when the import backlog is full or when this process is already receiving UPLOAD_MAX_IN_FLIGHT_BYTES of uploads.',
    async handler({ params, auth, ctx, req }) {
      // acceptUpload checks the device itself, in the same read as the channel's state.
      const accepted = await acceptUpload(ctx, auth.schoolId, auth.deviceId, params.channel, req.file!.buffer);
      return reply.accepted({ session_id: accepted.session_id, status: accepted.status });
    },
  });

  api.add({
    method: 'get', path: '/v4/:channel/instructions', summary: 'Download the instruction package (docs/protocol/v4.md §3.4)', tags: ['device protocol'], auth: 'device',
    params: channelParam, transaction: false,
    responses: { 200: { description: 'The package (zip)', contentType: 'application/zip' }, 304: { description: 'Unchanged (If-None-Match)' }, ...errors(401, 404, 409) },
    async handler({ params, auth, db, req }) {
      // The device check and the package in one statement.
      const pkg = await readDeviceAndPackage(db, auth.schoolId, auth.deviceId, params.channel);
      if (!pkg || pkg.disabled_at !== null) throw inactiveDevice();
      if (pkg.status !== SYNC_STATUS.ready || !pkg.id || !pkg.package || !pkg.package_sha256) {
        throw new Problem('no_instructions_ready', 'No instruction package is ready: check the status first');
      }
      const headers = { 'X-Session-Id': pkg.id, ETag: `"${pkg.package_sha256}"`, 'Cache-Control': 'no-store' };
      if (req.headers['if-none-match'] === headers.ETag) return reply.notModified(headers);
      return reply.raw(pkg.package, 'application/zip', { ...headers, 'Content-Disposition': 'attachment; filename="instructions.zip"' });
    },
  });

  api.add({
    method: 'post', path: '/v4/:channel/ack', summary: 'Acknowledge the applied package (docs/protocol/v4.md §3.5)', tags: ['device protocol'], auth: 'device',
    params: channelParam, body: z.object({ session_id: z.string().max(64) }), transaction: false,
    responses: { 200: { description: 'Acknowledged', schema: z.object({ status: z.number() }) }, ...errors(401, 404, 409, 422) },
    async handler({ params, body, auth, db }) {
      const sessionId = z.uuid().safeParse(body.session_id).success ? body.session_id : null;
      const hook = channelOf(params.channel).acknowledged;
      // The device check, the 2 → 0 and the flags it applies are one statement; a channel with
      // work of its own at the acknowledgement (messagerie) runs it in the same transaction.
      const ack = hook
        ? await db.transaction().execute(async (trx) => {
          const a = await acknowledge(trx, auth.schoolId, auth.deviceId, params.channel, sessionId);
          if (a?.acked && sessionId) await hook(trx, { schoolId: auth.schoolId, deviceId: auth.deviceId, sessionId });
          return a;
        })
        : await acknowledge(db, auth.schoolId, auth.deviceId, params.channel, sessionId);
      if (!ack || ack.disabled) throw inactiveDevice();
      if (ack.acked) return reply.ok({ status: SYNC_STATUS.idle });
      const session = sessionId ? await findSessionOfDevice(db, auth.schoolId, auth.deviceId, params.channel, sessionId) : undefined;
      if (session?.acked_at) {
        const state = await readState(db, auth.schoolId, auth.deviceId, params.channel);
        return reply.ok({ status: state?.status ?? SYNC_STATUS.idle });
      }
      throw new Problem('session_mismatch', 'That session is not the one waiting for acknowledgement on this channel');
    },
  });
}

// `GET /api/attendances/:id/photo` (docs/protocol/v4.md §7 photos): the image a device sent for a check-in,
// within the caller's scope; 404 when the attendance is out of scope or has no photo held.
import { attendancePhoto } from '../../db/repositories/photos.js';
import { notFound } from '../../shared/errors.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { assertInScope, schoolOfRequest } from '../http/scope.js';
import { errors, idParam } from '../schemas/common.js';

export function photoRoutes(api: RouteRegistry): void {
  api.add({
    method: 'get', path: '/api/attendances/:id/photo', summary: "An attendance's photo (JPEG or PNG)", tags: ['attendances'], auth: 'staff',
    params: idParam,
    responses: {
      200: { description: 'The image as the device sent it', contentType: 'image/*' },
      304: { description: 'Unchanged (If-None-Match)' },
      ...errors(401, 404, 422),
    },
    async handler({ params, db, auth, req }) {
      const schoolId = await schoolOfRequest(db, auth, 'attendances', params.id);
      const photo = schoolId === null ? undefined : await attendancePhoto(db, schoolId, params.id);
      if (!photo) throw notFound('photo');
      assertInScope(auth, photo.school_id, 'photo');
      // Content-addressed: the ETag is the SHA-256; nosniff so a browser never reinterprets the bytes.
      const headers = { ETag: `"${photo.sha256}"`, 'Cache-Control': 'private, max-age=86400', 'X-Content-Type-Options': 'nosniff' };
      if (req.headers['if-none-match'] === headers.ETag) return reply.notModified(headers);
      return reply.raw(photo.data, photo.content_type, headers);
    },
  });
}

// Photos (docs/protocol/v4.md §7): bytes stored once per SHA-256, and per device the index of names it
// sent, which is how an attendance's `photo` column finds its image.
import { sql } from 'kysely';
import type { DbOrTrx, Trx } from '../database.js';

export interface NewPhoto {
  sha256: string;
  contentType: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  data: Buffer;
}

/** Stores the bytes unless that content is already held; true when this call stored them. */
export async function storePhoto(trx: Trx, photo: NewPhoto): Promise<boolean> {
  const row = await trx.insertInto('photos').values({
    sha256: photo.sha256, content_type: photo.contentType, width: photo.width, height: photo.height, bytes: photo.data.length, data: photo.data,
  }).onConflict((oc) => oc.column('sha256').doNothing()).returning('sha256').executeTakeFirst();
  return row !== undefined;
}

/**
 * Links a device's photo name to its content. A name already held keeps its first content: the
 * attendance it illustrates must not change picture afterwards. Returns the SHA-256 held.
 */
export async function linkDevicePhoto(trx: Trx, link: { schoolId: number; deviceId: string; name: string; sha256: string; sessionId: string }): Promise<string> {
  await trx.insertInto('device_photos').values({ school_id: link.schoolId, device_id: link.deviceId, name: link.name, sha256: link.sha256, session_id: link.sessionId })
    .onConflict((oc) => oc.columns(['device_id', 'name', 'school_id']).doNothing()).execute();
  const row = await trx.selectFrom('device_photos').select('sha256')
    .where('device_id', '=', link.deviceId).where('name', '=', link.name).where('school_id', '=', link.schoolId).executeTakeFirstOrThrow();
  return row.sha256;
}

/** Every photo held for the device, by name. */
export async function devicePhotoIndex(db: DbOrTrx, schoolId: number, deviceId: string): Promise<Array<{ name: string; sha256: string }>> {
  return db.selectFrom('device_photos').select(['name', 'sha256']).where('school_id', '=', schoolId).where('device_id', '=', deviceId).orderBy('name').execute();
}

/** Names the device's stored attendances refer to that the server does not hold yet. */
export async function photosWanted(db: DbOrTrx, schoolId: number, deviceId: string, limit: number): Promise<string[]> {
  const rows = await sql<{ photo: string }>`
    SELECT DISTINCT a.photo FROM attendances a
    WHERE a.school_id = ${schoolId} AND a.device_id = ${deviceId}::uuid AND a.photo IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM device_photos p WHERE p.school_id = a.school_id AND p.device_id = a.device_id AND p.name = a.photo)
    ORDER BY a.photo LIMIT ${limit}
  `.execute(db);
  return rows.rows.map((r) => r.photo);
}

/** The image of an attendance, when its device sent it. */
export async function attendancePhoto(db: DbOrTrx, schoolId: number, attendanceId: number) {
  return db.selectFrom('attendances as a')
    .innerJoin('device_photos as dp', (j) => j.onRef('dp.school_id', '=', 'a.school_id').onRef('dp.device_id', '=', 'a.device_id').onRef('dp.name', '=', 'a.photo'))
    .innerJoin('photos as p', 'p.sha256', 'dp.sha256')
    .select(['a.school_id', 'p.sha256', 'p.content_type', 'p.data'])
    .where('a.school_id', '=', schoolId).where('a.id', '=', attendanceId)
    .executeTakeFirst();
}

// The photos channel (docs/protocol/v4.md §7): the manifest asks for the photos the device's check-ins
// name, each is checked by content and size, identical ones are stored once, the package holds
// the device's photo index, and staff see a photo beside its attendance within their scope.
import { expect, test } from '@jest/globals';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { rawZip } from '../../fixtures/raw-zip.js';
import { sha256 } from '../../shared/archive/hash.js';
import { jpeg, minutesAgo, png } from './helpers.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite({ worker: true });

/** A device whose synchro batch stored check-ins naming `photos`; its photos channel signed in. */
async function aDeviceWithCheckins(photos: string[]) {
  const school = await aSchool(suite.db);
  const user = await aUser(suite.db, school.id);
  const identity = await aDevice(suite.db, school.id);
  const terminal = await new TestDevice(suite.url, identity).signIn();
  const rows = photos.map((photo, i) => ({ record_id: i + 1, user_id: user.id, type: i % 2 ? 'checkout' : 'checkin', occurred_at: minutesAgo(60 - i), photo }));
  await terminal.sync(batchZip({ 'device.xml': deviceXml(), 'attendances.csv': attendancesCsv(rows) }));
  const camera = new TestDevice(suite.url, identity, 'photos');
  camera.token = terminal.token;
  const attendances = await suite.db.selectFrom('attendances').select(['id', 'photo']).where('device_id', '=', identity.id).orderBy('record_id').execute();
  return { school, camera, attendances };
}

/** The package's `<photo>` elements (the generic reader's attribute names have no digits). */
const photoIndex = (pkg: { xml: string }) => [...pkg.xml.matchAll(/<photo ([^>]*)\/>/g)]
  .map((m) => Object.fromEntries([...m[1].matchAll(/([a-z0-9_]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));

const photoOf = (token: string, attendanceId: number) => http(suite.url, 'GET', `/api/attendances/${attendanceId}/photo`, { token });

test('full cycle: photos_wanted, content checks, the photo index, and the photo beside its attendance', async () => {
  const { school, camera, attendances } = await aDeviceWithCheckins(['p0001.jpg', 'p0002.png', 'p0003.jpg', 'p0004.jpg']);
  const manifest = await camera.manifest();
  expect(manifest.body).toMatchObject({ files: [{ name: 'device.xml', required: true }], high_water_marks: {}, photos_wanted: ['p0001.jpg', 'p0002.png', 'p0003.jpg', 'p0004.jpg'] });

  const photo1 = jpeg(640, 480, { padBytes: 2000 });
  const photo2 = png(4, 3);
  const { pkg } = await camera.sync(batchZip({
    'device.xml': deviceXml(),
    'photos/p0001.jpg': photo1,
    'photos/p0002.png': photo2,
    'photos/p0003.jpg': 'this is a text file named .jpg\n', // by content: not an image
    'photos/p0004.jpg': jpeg(800, 600, { padBytes: 3 * 1024 * 1024 }), // 3 MiB: over the 2 MiB limit
  }));
  expect(photoIndex(pkg)).toEqual([
    { name: 'p0001.jpg', sha256: sha256(photo1), stored: 'true' },
    { name: 'p0002.png', sha256: sha256(photo2), stored: 'true' },
    { name: 'p0003.jpg', code: 'not_an_image' },
    { name: 'p0004.jpg', code: 'too_large' },
  ]);
  // Refused photos are still wanted; stored ones are not.
  expect((await camera.manifest()).body.photos_wanted).toEqual(['p0003.jpg', 'p0004.jpg']);

  const admin = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  const shown = await photoOf(admin, attendances[0].id);
  expect(shown.status).toBe(200);
  expect(shown.headers.get('content-type')).toBe('image/jpeg');
  expect(Buffer.compare(shown.body, photo1)).toBe(0);
  const shownPng = await photoOf(admin, attendances[1].id);
  expect([shownPng.status, shownPng.headers.get('content-type')]).toEqual([200, 'image/png']);
  // No photo held (refused) → 404.
  expect((await photoOf(admin, attendances[2].id)).status).toBe(404);
});

test('scope: another school admin gets 404, backoffice sees it; an attendance without a photo or unknown is 404', async () => {
  const { camera, attendances } = await aDeviceWithCheckins(['a.jpg', '']);
  await camera.sync(batchZip({ 'device.xml': deviceXml(), 'photos/a.jpg': jpeg(10, 10) }));
  const stranger = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', (await aSchool(suite.db)).id));
  expect((await photoOf(stranger, attendances[0].id)).status).toBe(404);
  const backoffice = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
  expect((await photoOf(backoffice, attendances[0].id)).status).toBe(200);
  expect((await photoOf(backoffice, attendances[1].id)).status).toBe(404);
  expect((await photoOf(backoffice, 987654321)).status).toBe(404);
  expect((await photoOf('', attendances[0].id)).status).toBe(401);
});

test('the same photo twice — under two names, and sent again later — is stored once', async () => {
  const { camera } = await aDeviceWithCheckins(['same-1.jpg', 'same-2.jpg']);
  const bytes = jpeg(320, 240, { padBytes: 100, seed: 42 });
  const first = await camera.sync(batchZip({ 'device.xml': deviceXml(), 'photos/same-1.jpg': bytes, 'photos/same-2.jpg': bytes }));
  expect(photoIndex(first.pkg).map((p) => [p.name, p.sha256])).toEqual([['same-1.jpg', sha256(bytes)], ['same-2.jpg', sha256(bytes)]]);
  const again = await camera.sync(batchZip({ 'device.xml': deviceXml(), 'photos/same-1.jpg': bytes }));
  expect(photoIndex(again.pkg)).toHaveLength(2);
  const stored = await suite.db.selectFrom('photos').select(['sha256', 'bytes']).where('sha256', '=', sha256(bytes)).execute();
  expect(stored).toEqual([{ sha256: sha256(bytes), bytes: bytes.length }]);
  const links = await suite.db.selectFrom('device_photos').select('name').where('device_id', '=', camera.identity.id).orderBy('name').execute();
  expect(links.map((l) => l.name)).toEqual(['same-1.jpg', 'same-2.jpg']);
});

test.each([
  ['a space in the name', 'photos/bad name.jpg'],
  ['a name of 101 characters', `photos/${'a'.repeat(97)}.jpg`],
  ['a sub-folder', 'photos/x/y.jpg'],
  ['a non-ASCII name', 'photos/é.jpg'],
  ['a photo outside photos/', 'p0001.jpg'],
  ['a file of another channel', 'attendances.csv'],
])('a bad name (%s) → 400 entry_name_invalid, nothing stored', async (_what, entry) => {
  const { camera } = await aDeviceWithCheckins([]);
  const res = await camera.upload(rawZip([{ name: 'device.xml', data: deviceXml() }, { name: entry, data: jpeg(10, 10) }]));
  expect([res.status, res.body.code]).toEqual([400, 'entry_name_invalid']);
  expect((await camera.status()).body).toMatchObject({ status: 0, session_id: null });
});

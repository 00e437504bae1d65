// Running a school from the REST API (issue #29): pupils added, imported from a roster file
// (CSV, XLSX) with each bad row named and applied idempotently on badge; staff accounts
// managed by backoffice and by a school admin for their own school's admins, deactivated (their
// sessions end) and reset with a one-time link; devices registered with an enrolment link.
// Every write is audited with its author, and a school admin gets 404 for anything of another school.
import AdmZip from 'adm-zip';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { aDevice, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { rosterForm, rosterXlsx } from '../support/roster-files.js';
import { useSuite } from '../support/suite.js';
import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';
import { aWorld, type World } from './world.js';

const suite = useSuite();
let w: World;

beforeAll(async () => {
  w = await aWorld(suite.url, suite.db);
});

const audit = (token: string, query = '') => http(suite.url, 'GET', `/api/audit?limit=100${query}`, { token });
/** The audit rows about one thing (GET /api/audit filters by subject; the id is the row's, or a device's in its details). */
async function trailOf(token: string, subject: string, id: number | string) {
  const res = await audit(token, `&subject=${subject}`);
  return res.body.items.filter((e: any) => (subject === 'device' ? e.details.device_id === id : e.subject_id === id));
}

describe('scope: a school admin gets 404 for another school on every new route', () => {
  test('pupils, staff and devices of school B', async () => {
    const pupil = await aUser(suite.db, w.schoolB.id);
    const colleague = await aStaff(suite.db, 'school_admin', w.schoolB.id);
    const backoffice = await aStaff(suite.db, 'backoffice');
    const device = await aDevice(suite.db, w.schoolB.id);
    const calls: Array<[string, string, unknown?]> = [
      ['POST', `/api/users/${pupil.id}/reactivate`],
      ['GET', `/api/staff/${colleague.id}`],
      ['PATCH', `/api/staff/${colleague.id}`, { name: 'X' }],
      ['POST', `/api/staff/${colleague.id}/deactivate`],
      ['POST', `/api/staff/${colleague.id}/reactivate`],
      ['POST', `/api/staff/${colleague.id}/password-reset`, {}],
      ['GET', `/api/staff/${backoffice.id}`],
      ['POST', `/api/staff/${backoffice.id}/password-reset`, {}],
      ['PATCH', `/api/devices/${device.id}`, { name: 'X' }],
      ['POST', `/api/devices/${device.id}/disable`],
      ['POST', `/api/devices/${device.id}/enable`],
      ['POST', `/api/devices/${device.id}/secret`],
    ];
    for (const [method, path, body] of calls) {
      const res = await http(suite.url, method, path, { token: w.adminA.token, body: body ?? (method === 'GET' ? undefined : {}) });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    const importThere = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm('name,badge\nX,1\n', 'r.csv', { school_id: String(w.schoolB.id) }) });
    expect(importThere.status).toBe(404);
    const staffList = await http(suite.url, 'GET', '/api/staff?limit=500', { token: w.adminA.token });
    expect(staffList.body.items.map((s: any) => s.school_id)).toEqual(staffList.body.items.map(() => w.schoolA.id));
    const register = await http(suite.url, 'POST', '/api/devices', { token: w.adminA.token, body: { school_id: w.schoolB.id, name: 'Elsewhere' } });
    expect(register.status).toBe(422);
    // Nothing changed there, and nothing was audited for school B.
    expect((await audit(w.adminB.token)).body.items).toEqual([]);
    expect((await http(suite.url, 'GET', `/api/devices/${device.id}`, { token: w.adminB.token })).body.disabled_at).toBeNull();
  });

  test('a school admin cannot grant backoffice', async () => {
    const res = await http(suite.url, 'POST', '/api/staff', { token: w.adminA.token, body: { email: 'boss@example.test', password: 'long enough pw', role: 'backoffice' } });
    expect(res.status).toBe(403);
  });
});

describe('pupils', () => {
  test('add, edit, deactivate, reactivate: each audited with its author', async () => {
    const created = await http(suite.url, 'POST', '/api/users', { token: w.adminA.token, body: { name: 'Zoé Durand', badge: 'AUD-1' } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await http(suite.url, 'PATCH', `/api/users/${id}`, { token: w.adminA.token, body: { name: 'Zoé Durand-Martin' } })).status).toBe(200);
    expect((await http(suite.url, 'DELETE', `/api/users/${id}`, { token: w.adminA.token })).status).toBe(204);
    expect((await http(suite.url, 'POST', `/api/users/${id}/reactivate`, { token: w.adminA.token, body: {} })).body.deleted_at).toBeNull();
    const trail = await trailOf(w.adminA.token, 'user', id);
    expect(trail.map((e: any) => e.action)).toEqual(['user.reactivate', 'user.deactivate', 'user.update', 'user.create']);
    expect(trail[2].details).toEqual({ name: { from: 'Zoé Durand', to: 'Zoé Durand-Martin' } });
    for (const e of trail) expect(e).toMatchObject({ staff_id: w.adminA.id, school_id: w.schoolA.id, staff_email: expect.stringContaining('@') });
    expect(new Date(trail[0].at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('roster import', () => {
  const csv = [
    'name,badge,active,enrolled_on',
    'Ana Lima,IMP-1,1,2026-09-01',
    'Ben Okafor,IMP-2,,',
    ',IMP-3,,',
    'Chloé Roux,IMP-1,,',
    '=1+2,IMP-4,,',
    'Dan Wu,IMP-5,1,2026-02-30',
  ].join('\r\n');

  test('a preview names each row\'s problem and changes nothing; applying is idempotent on badge', async () => {
    const preview = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(csv, 'pupils.csv') });
    expect(preview.status).toBe(200);
    expect(preview.body.applied).toBe(false);
    expect(preview.body.rows.map((r: any) => [r.line, r.action, r.problem])).toEqual([
      [2, 'create', null], [3, 'create', null], [4, 'error', 'name_missing'], [5, 'error', 'badge_repeated'],
      [6, 'error', 'formula'], [7, 'error', 'enrolled_on_invalid'],
    ]);
    expect(preview.body.rows[3].first_line).toBe(2);
    expect(await suite.db.selectFrom('users').select('id').where('badge', 'like', 'IMP-%').execute()).toEqual([]);

    const applied = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(csv, 'pupils.csv', { apply: 'true' }) });
    expect(applied.body).toMatchObject({ applied: true, counts: { create: 2, error: 4 } });
    const stored = await suite.db.selectFrom('users').select(['name', 'badge', 'enrolled_on', 'school_id']).where('badge', 'like', 'IMP-%').orderBy('badge').execute();
    expect(stored).toEqual([
      { name: 'Ana Lima', badge: 'IMP-1', enrolled_on: '2026-09-01', school_id: w.schoolA.id },
      { name: 'Ben Okafor', badge: 'IMP-2', enrolled_on: expect.any(String), school_id: w.schoolA.id },
    ]);

    const again = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(csv, 'pupils.csv', { apply: 'true' }) });
    expect(again.body.counts).toEqual({ unchanged: 2, error: 4 });
    const renamed = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm('badge,name,active\nIMP-1,Ana Lima Souza,\nIMP-2,Ben Okafor,0\n', 'r.csv', { apply: 'true' }) });
    expect(renamed.body.rows.map((r: any) => r.action)).toEqual(['update', 'deactivate']);
    const imports = (await audit(w.adminA.token, '&subject=roster_import')).body.items;
    expect(imports[0]).toMatchObject({ action: 'users.import', staff_id: w.adminA.id, details: { file: 'r.csv', counts: { update: 1, deactivate: 1 } } });
    expect(imports).toHaveLength(3);
  });

  test('an XLSX roster: formula cells refused, text and numbers read', async () => {
    const file = await rosterXlsx([['Name', 'Badge'], ['Eva Novak', 7001], ['Finn Berg', { formula: 'CONCAT("X","1")' }], ['Gia Rossi', 'XL-3']]);
    const res = await http(suite.url, 'POST', '/api/users/import', { token: w.backoffice.token, body: rosterForm(file, 'pupils.xlsx', { school_id: String(w.schoolB.id), apply: 'true' }) });
    expect(res.status).toBe(200);
    expect(res.body.rows.map((r: any) => [r.line, r.badge, r.action, r.problem])).toEqual([
      [2, '7001', 'create', null], [3, '', 'error', 'formula'], [4, 'XL-3', 'create', null],
    ]);
    const byB = (await audit(w.adminB.token, '&subject=roster_import')).body.items;
    expect(byB[0]).toMatchObject({ staff_id: w.backoffice.id, school_id: w.schoolB.id });
  });

  test('too many rows, a wrong header, a zip that is not a spreadsheet: refused with a reason', async () => {
    const big = ['name,badge', ...Array.from({ length: 5001 }, (_, i) => `P ${i},B${i}`)].join('\n');
    const tooBig = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(big, 'big.csv') });
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.detail).toContain('5000');
    const header = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm('nom,badge\nA,1\n', 'r.csv') });
    expect(header.status).toBe(400);
    expect(header.body.detail).toContain('nom');
    const sheetBig = await rosterXlsx([['name', 'badge'], ...Array.from({ length: 5001 }, (_, i) => [`P ${i}`, `B${i}`])]);
    const xlsxTooBig = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(sheetBig, 'big.xlsx') });
    expect(xlsxTooBig.status).toBe(400);
    // A zip bomb dressed as a spreadsheet: refused from its central directory, nothing inflated.
    const bomb = new AdmZip();
    bomb.addFile('xl/worksheets/sheet1.xml', Buffer.alloc(64 * 1024 * 1024, 0x20));
    const bombed = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(bomb.toBuffer(), 'bomb.xlsx') });
    expect([bombed.status, bombed.body.code]).toEqual([400, 'roster_file_invalid']);
    expect(bombed.body.detail).toMatch(/compressed suspiciously|too large/);
    const huge = await http(suite.url, 'POST', '/api/users/import', { token: w.adminA.token, body: rosterForm(Buffer.alloc(3 * 1024 * 1024, 'a'), 'huge.csv') });
    expect(huge.status).toBe(413);
  });
});

describe('staff accounts', () => {
  test('a school admin adds a colleague, resets their password with a one-time link that ends their sessions', async () => {
    const created = await http(suite.url, 'POST', '/api/staff', { token: w.adminA.token, body: { email: 'colleague.a@example.test', password: 'first password', name: 'Colleague' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ role: 'school_admin', school_id: w.schoolA.id });
    const oldToken = await loginAs(suite.url, { email: 'colleague.a@example.test', password: 'first password' });
    expect((await http(suite.url, 'GET', '/api/users?limit=1', { token: oldToken })).status).toBe(200);

    const reset = await http(suite.url, 'POST', `/api/staff/${created.body.id}/password-reset`, { token: w.adminA.token, body: {} });
    expect(reset.status).toBe(201);
    expect(reset.body.emailed).toBe(false);
    expect(new Date(reset.body.expires_at).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect((await http(suite.url, 'GET', '/api/users?limit=1', { token: oldToken })).status).toBe(401);

    const token = new URLSearchParams(reset.body.reset_url.split('#reset?')[1]).get('token')!;
    expect((await suite.db.selectFrom('password_resets').select('token_hash').execute()).map((r) => r.token_hash)).not.toContain(token);
    expect((await http(suite.url, 'POST', '/api/auth/password-reset/check', { body: { token } })).body).toEqual({ email: 'colleague.a@example.test' });
    const used = await http(suite.url, 'POST', '/api/auth/password-reset/complete', { body: { token, password: 'second password' } });
    expect(used.status).toBe(200);
    expect((await http(suite.url, 'GET', '/api/users?limit=1', { token: used.body.access_token })).status).toBe(200);
    const twice = await http(suite.url, 'POST', '/api/auth/password-reset/complete', { body: { token, password: 'third password' } });
    expect(twice.status).toBe(400);
    expect((await http(suite.url, 'POST', '/api/auth/login', { body: { email: 'colleague.a@example.test', password: 'second password' } })).status).toBe(200);

    const trail = await trailOf(w.adminA.token, 'staff', created.body.id);
    expect(trail.map((e: any) => [e.action, e.staff_id])).toEqual([
      ['staff.password_set', created.body.id], ['staff.password_reset', w.adminA.id], ['staff.create', w.adminA.id],
    ]);
  });

  test('an expired link does not work, and a newer link replaces an older one', async () => {
    const colleague = await aStaff(suite.db, 'school_admin', w.schoolA.id);
    const first = await http(suite.url, 'POST', `/api/staff/${colleague.id}/password-reset`, { token: w.backoffice.token, body: {} });
    const second = await http(suite.url, 'POST', `/api/staff/${colleague.id}/password-reset`, { token: w.backoffice.token, body: {} });
    const tokenOf = (r: any) => new URLSearchParams(r.body.reset_url.split('#reset?')[1]).get('token')!;
    expect((await http(suite.url, 'POST', '/api/auth/password-reset/check', { body: { token: tokenOf(first) } })).status).toBe(400);
    await suite.db.updateTable('password_resets').set({ expires_at: new Date(Date.now() - 1000) }).where('staff_id', '=', colleague.id).execute();
    expect((await http(suite.url, 'POST', '/api/auth/password-reset/complete', { body: { token: tokenOf(second), password: 'new password!' } })).status).toBe(400);
  });

  test('a deactivated account cannot sign in and its sessions end; reactivated, it signs in again', async () => {
    const colleague = await aStaff(suite.db, 'school_admin', w.schoolA.id);
    const token = await loginAs(suite.url, colleague);
    const off = await http(suite.url, 'POST', `/api/staff/${colleague.id}/deactivate`, { token: w.adminA.token, body: {} });
    expect(off.body.deactivated_at).not.toBeNull();
    expect((await http(suite.url, 'GET', '/api/users?limit=1', { token })).status).toBe(401);
    expect((await http(suite.url, 'POST', '/api/auth/login', { body: { email: colleague.email, password: colleague.password } })).status).toBe(401);
    expect((await http(suite.url, 'POST', `/api/staff/${w.adminA.id}/deactivate`, { token: w.adminA.token, body: {} })).status).toBe(409);
    await http(suite.url, 'POST', `/api/staff/${colleague.id}/reactivate`, { token: w.adminA.token, body: {} });
    expect((await http(suite.url, 'POST', '/api/auth/login', { body: { email: colleague.email, password: colleague.password } })).status).toBe(200);
    const actions = (await trailOf(w.adminA.token, 'staff', colleague.id)).map((e: any) => e.action);
    expect(actions).toEqual(['staff.reactivate', 'staff.deactivate']);
  });

  test('forgot password without SMTP: the answer says no e-mail is sent, whether the account exists or not', async () => {
    expect((await http(suite.url, 'GET', '/api/auth/password-reset')).body).toEqual({ email_enabled: false });
    const known = await http(suite.url, 'POST', '/api/auth/password-reset', { body: { email: 'colleague.a@example.test' } });
    const unknown = await http(suite.url, 'POST', '/api/auth/password-reset', { body: { email: 'nobody@example.test' } });
    expect([known.status, known.body]).toEqual([202, { email_enabled: false }]);
    expect([unknown.status, unknown.body]).toEqual([202, { email_enabled: false }]);
  });
});

describe('devices', () => {
  test('a school admin registers a device: its secret and enrolment link once, and the link signs the device in', async () => {
    const res = await http(suite.url, 'POST', '/api/devices', { token: w.adminA.token, body: { name: 'Phone 1', kind: 'mobile' } });
    expect(res.status).toBe(201);
    expect(res.body.enrol_qr).toMatch(/^data:image\/png;base64,/);
    const enrol = parseEnrolUri(res.body.enrol_uri)!;
    expect(enrol).toEqual({ server: suite.url, deviceId: res.body.id, secret: res.body.secret });
    expect((await http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: enrol.deviceId, secret: enrol.secret } })).status).toBe(200);
    expect(JSON.stringify((await http(suite.url, 'GET', `/api/devices/${res.body.id}`, { token: w.adminA.token })).body)).not.toContain(res.body.secret);

    const rotated = await http(suite.url, 'POST', `/api/devices/${res.body.id}/secret`, { token: w.adminA.token, body: {} });
    expect(parseEnrolUri(rotated.body.enrol_uri)!.secret).toBe(rotated.body.secret);
    expect((await http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: enrol.deviceId, secret: enrol.secret } })).status).toBe(401);
    await http(suite.url, 'POST', `/api/devices/${res.body.id}/disable`, { token: w.adminA.token, body: {} });
    expect((await http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: enrol.deviceId, secret: rotated.body.secret } })).status).toBe(401);

    const trail = await trailOf(w.adminA.token, 'device', res.body.id);
    expect(trail.map((e: any) => e.action)).toEqual(['device.disable', 'device.rotate_secret', 'device.register']);
    expect(JSON.stringify(trail)).not.toContain(res.body.secret);
  });
});

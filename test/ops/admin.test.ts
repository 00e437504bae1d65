// The operator's break-glass CLI (`npm run admin`, docs/OPERATIONS.md "Admin commands"): each
// command does what it says, in one transaction with its admin_actions row, never a secret in it.
import { describe, expect, test } from '@jest/globals';
import { sql } from 'kysely';
import { runAdmin } from '../../bin/admin.js';
import { attendancesCsv, batchZip, deviceXml, TestDevice } from '../support/device-client.js';
import { aDevice, aSchool, aStaff, loginAs, someUsers } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { runScript } from '../support/processes.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite(); // no worker: an upload stays in status 1, a stuck session
const audit = async () => (await sql<{ command: string; operator: string; args: unknown; result: unknown }>`
  SELECT command, operator, args, result FROM admin_actions ORDER BY id`.execute(suite.db)).rows;

describe('npm run admin', () => {
  test('set-password: from standard input; the old password stops working; the audit names the account, not the password', async () => {
    const school = await aSchool(suite.db);
    const staff = await aStaff(suite.db, 'school_admin', school.id);
    const done = await runAdmin(['set-password', '--email', staff.email, '--by', 'ops'], suite.databaseUrl, async () => 'a brand new password\n');
    expect(done).toEqual({ code: 0, out: `password of ${staff.email} set` });
    expect(await loginAs(suite.url, { email: staff.email, password: 'a brand new password' })).toEqual(expect.any(String));
    expect((await http(suite.url, 'POST', '/api/auth/login', { body: { email: staff.email, password: staff.password } })).status).toBe(401);
    expect(JSON.stringify(await audit())).not.toContain('a brand new password');
    expect(await audit()).toContainEqual(expect.objectContaining({ command: 'set-password', operator: 'ops', args: { email: staff.email } }));
    expect((await runAdmin(['set-password', '--email', staff.email], suite.databaseUrl, async () => 'short')).code).toBe(64);
  });

  test('fail-session: a device stuck in status 1 is idle again; rotate-device-secret: the old secret is refused', async () => {
    const school = await aSchool(suite.db);
    const [user] = await someUsers(suite.db, school.id, 1);
    const identity = await aDevice(suite.db, school.id);
    const device = await new TestDevice(suite.url, identity).signIn();
    const up = await device.upload(batchZip({ 'device.xml': deviceXml({ rosterVersion: 0 }), 'attendances.csv': attendancesCsv([{ record_id: 1, user_id: user.id, type: 'checkin', occurred_at: new Date(Date.now() - 60_000).toISOString() }]) }));
    expect(up.status).toBe(202);
    expect((await device.status()).body.status).toBe(1);

    const failed = await runAdmin(['fail-session', '--session', up.body.session_id], suite.databaseUrl);
    expect(failed).toEqual({ code: 0, out: `session ${up.body.session_id} closed; device ${identity.id} (synchro) is idle` });
    expect((await device.status()).body.status).toBe(0);
    expect((await runAdmin(['fail-session', '--session', up.body.session_id], suite.databaseUrl)).code).toBe(64);

    const rotated = await runAdmin(['rotate-device-secret', '--device', identity.id], suite.databaseUrl);
    const secret = /new secret (\S+)$/.exec(rotated.out)![1];
    expect((await http(suite.url, 'POST', '/v4/auth/token', { body: { device_id: identity.id, secret: identity.secret } })).status).toBe(401);
    await new TestDevice(suite.url, { ...identity, secret }).signIn();
    expect(JSON.stringify(await audit())).not.toContain(secret);
  });

  test('as a process: an unknown command prints the usage and exits 64; `log` lists what was done', async () => {
    const unknown = runScript('bin/admin.ts', { DATABASE_URL: suite.databaseUrl }, { args: ['explode'] });
    expect((await unknown.waitForExit(30_000)).code).toBe(64);
    expect(unknown.stderr.join('\n')).toMatch(/^usage: npm run admin -- <command>/m);
    const log = runScript('bin/admin.ts', { DATABASE_URL: suite.databaseUrl }, { args: ['log'] });
    expect((await log.waitForExit(30_000)).code).toBe(0);
    expect(log.stdout.join('\n')).toMatch(/ ops set-password /);
  });
});

// Reset links by e-mail when SMTP_URL is set (issue #29): a link issued by staff is also sent to
// the account, and "forgot password" on the sign-in page sends one, to an account that exists
// only, with the same answer either way. A minimal SMTP server here receives what is sent.
import net from 'node:net';
import { afterAll, expect, test } from '@jest/globals';
import { aSchool, aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

interface Mail { to: string[]; data: string }
const mails: Mail[] = [];

/** Just enough SMTP (RFC 5321) for nodemailer: no TLS offered, every message accepted. */
const smtp = net.createServer((socket) => {
  let mail: Mail = { to: [], data: '' };
  let inData = false;
  let buffer = '';
  socket.write('220 test ESMTP\r\n');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        mail.data = buffer.slice(0, end);
        buffer = buffer.slice(end + 5);
        inData = false;
        mails.push(mail);
        mail = { to: [], data: '' };
        socket.write('250 queued\r\n');
        continue;
      }
      const eol = buffer.indexOf('\r\n');
      if (eol < 0) return;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') socket.write('250-test\r\n250 8BITMIME\r\n');
      else if (verb === 'RCPT') { mail.to.push(/<([^>]*)>/.exec(line)?.[1] ?? ''); socket.write('250 ok\r\n'); }
      else if (verb === 'DATA') { inData = true; socket.write('354 go\r\n'); }
      else if (verb === 'QUIT') { socket.end('221 bye\r\n'); return; }
      else socket.write('250 ok\r\n');
    }
  });
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
const port = (smtp.address() as net.AddressInfo).port;

const suite = useSuite({ env: { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: 'School office <office@example.test>' } });
afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

/** The link in a mail's text (quoted-printable soft breaks undone). */
const linkIn = (mail: Mail) => /(http:\/\/\S+#reset\?token=[A-Za-z0-9_-]+)/.exec(mail.data.replace(/=\r\n/g, '').replace(/=3D/g, '='))?.[1];

test('a link issued by staff is e-mailed to the account too', async () => {
  const school = await aSchool(suite.db);
  const admin = await aStaff(suite.db, 'school_admin', school.id);
  const colleague = await aStaff(suite.db, 'school_admin', school.id);
  const res = await http(suite.url, 'POST', `/api/staff/${colleague.id}/password-reset`, { token: await loginAs(suite.url, admin), body: {} });
  expect(res.body.emailed).toBe(true);
  const mail = mails.find((m) => m.to.includes(colleague.email))!;
  expect(mail.data).toContain('From: School office <office@example.test>');
  expect(linkIn(mail)).toBe(res.body.reset_url);
});

test('forgot password e-mails a working link to an existing account only, answering the same either way', async () => {
  const staff = await aStaff(suite.db, 'backoffice');
  expect((await http(suite.url, 'GET', '/api/auth/password-reset')).body).toEqual({ email_enabled: true });
  const before = mails.length;
  const known = await http(suite.url, 'POST', '/api/auth/password-reset', { body: { email: staff.email.toUpperCase() } });
  const unknown = await http(suite.url, 'POST', '/api/auth/password-reset', { body: { email: 'nobody@example.test' } });
  expect([known.status, known.body]).toEqual([unknown.status, unknown.body]);
  // Sent after the answer (its timing must not tell whether the account exists).
  for (let i = 0; i < 100 && mails.length === before; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  expect(mails.slice(before).map((m) => m.to)).toEqual([[staff.email]]);
  const token = new URLSearchParams(linkIn(mails.at(-1)!)!.split('#reset?')[1]).get('token');
  const used = await http(suite.url, 'POST', '/api/auth/password-reset/complete', { body: { token, password: 'chosen by its owner' } });
  expect(used.status).toBe(200);
  // Asked for by its owner: nobody else's action, so the audit names the account itself.
  const trail = await suite.db.selectFrom('staff_audit').select(['action', 'staff_id']).where('subject', '=', 'staff').where('subject_id', '=', staff.id).execute();
  expect(trail).toEqual([{ action: 'staff.password_set', staff_id: staff.id }]);
});

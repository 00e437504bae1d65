// Sign-in for staff (`POST /api/auth/login`) and devices (`POST /v4/auth/token`, docs/protocol/v4.md §1).
// Unknown account, wrong password or secret, disabled device: one answer for all, and a
// client that keeps failing is slowed down with 429 and Retry-After, for a time that doubles
// with each further failure (db/repositories/throttle.ts). Failures count three ways:
// - the credential tried from this address (AUTH_MAX_FAILURES): the guesser in front of us;
// - the credential from anywhere (AUTH_MAX_ACCOUNT_FAILURES): guesses spread over many addresses;
// - the address, whatever the credential (AUTH_MAX_ADDRESS_FAILURES): one address trying many.
// The last two spare a credential that has signed in from this address before: a guesser
// elsewhere does not lock the owner out, and one behind a school's NAT address does not lock
// out the terminals that always sign in from it. docs/SECURITY.md says what each costs.
import { z } from 'zod';
import { findDeviceCredentials } from '../../db/repositories/devices.js';
import { endSessions, findStaffByEmail, findStaffById, peekPasswordReset, updateStaff, usePasswordReset } from '../../db/repositories/staff.js';
import { recordAudit } from '../../db/repositories/staff-audit.js';
import type { Staff } from '../../db/schema/index.js';
import { hashPassword } from '../../shared/auth/password.js';
import { hashResetToken, issueReset, mailConfigured, mailReset } from '../auth/password-reset.js';
import type { Request } from 'express';
import { blockedFor, recordFailure, signInSucceeded, type SignInSource, type ThrottleKey } from '../../db/repositories/throttle.js';
import { Problem } from '../../shared/errors.js';
import { verifyDeviceSecret } from '../../shared/auth/device-secret.js';
import { verifyAgainstDummy, verifyPassword } from '../../shared/auth/password.js';
import { signDeviceToken, signStaffToken } from '../auth/tokens.js';
import type { AppContext } from '../context/context.js';
import { reply, type RouteRegistry } from '../http/route.js';
import { errors } from '../schemas/common.js';
import { staffSchema } from '../schemas/resources.js';

const loginBody = z.object({ email: z.string().min(1).max(254), password: z.string().min(1).max(1024) });
const tokenBody = z.object({ device_id: z.string().min(1).max(64), secret: z.string().min(1).max(256) });

interface SignInAttempt extends SignInSource {
  /** The pair's key, then the account's and the address's, each with its budget. */
  keys: ThrottleKey[];
}

function attempt(ctx: AppContext, req: Request, credential: string): SignInAttempt {
  // req.ip is the socket's address unless TRUST_PROXY names the proxies in front (api/app.ts).
  const address = req.ip ?? 'unknown';
  const pairKey = `${credential}@${address}`;
  return {
    credential, address, pairKey,
    keys: [
      { key: pairKey, budget: ctx.config.authMaxFailures },
      { key: credential, budget: ctx.config.authMaxAccountFailures },
      { key: `address:${address}`, budget: ctx.config.authMaxAddressFailures },
    ],
  };
}

/** A 429 while a key that applies is blocked: only the pair's own, for a pair that signed in before. */
async function throttled(ctx: AppContext, a: SignInAttempt): Promise<void> {
  const wait = await blockedFor(ctx.db, a, a.keys.map((k) => k.key));
  if (wait > 0) throw new Problem('rate_limited', `Too many failed attempts; try again in ${wait} s`, {}, { 'Retry-After': String(wait) });
}

// Failures are recorded outside the request's transaction: a failed attempt must count even though the request fails.
async function failed(ctx: AppContext, a: SignInAttempt, code: 'invalid_credentials'): Promise<never> {
  await recordFailure(ctx.db, a.keys);
  throw new Problem(code, 'Unknown account or wrong credentials');
}

/** Only the pair's count is cleared: the account's and the address's stand against other guessers. */
async function succeeded(ctx: AppContext, a: SignInAttempt): Promise<void> {
  await signInSucceeded(ctx.db, a);
}

async function signedIn(ctx: AppContext, staff: Staff) {
  const ttl = ctx.config.staffTokenTtlSeconds;
  const token = await signStaffToken(ctx.keys, { staffId: staff.id, role: staff.role, schoolId: staff.school_id, sessionVersion: staff.session_version }, ttl);
  const { password_hash: _hidden, session_version: _version, ...publicStaff } = staff;
  return { access_token: token, token_type: 'Bearer', expires_in: ttl, staff: publicStaff };
}

export function authRoutes(api: RouteRegistry): void {
  api.add({
    method: 'post',
    path: '/api/auth/login',
    summary: 'Sign in as staff; answers a bearer token',
    tags: ['auth'],
    auth: 'none',
    transaction: false,
    body: loginBody,
    responses: {
      200: { description: 'Signed in', schema: z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number(), staff: staffSchema }) },
      ...errors(401, 422, 429),
    },
    async handler({ body, ctx, req }) {
      const a = attempt(ctx, req, `staff:${body.email.trim().toLowerCase()}`);
      await throttled(ctx, a);
      const staff = await findStaffByEmail(ctx.db, body.email);
      const ok = staff ? await verifyPassword(body.password, staff.password_hash) : await verifyAgainstDummy(body.password);
      // A deactivated account answers as an unknown one.
      if (!staff || !ok || staff.deactivated_at !== null) return failed(ctx, a, 'invalid_credentials');
      await succeeded(ctx, a);
      return reply.ok(await signedIn(ctx, staff));
    },
  });

  api.add({
    method: 'get', path: '/api/auth/password-reset', summary: 'How a forgotten password is reset here', tags: ['auth'], auth: 'none',
    responses: { 200: { description: 'Whether reset links can be e-mailed', schema: z.object({ email_enabled: z.boolean() }) } },
    async handler({ ctx }) {
      return reply.ok({ email_enabled: mailConfigured(ctx) });
    },
  });

  api.add({
    method: 'post', path: '/api/auth/password-reset', summary: 'Forgot password: e-mail a reset link (when SMTP is configured)', tags: ['auth'], auth: 'none',
    description: 'Always answers 202 with the same body, whether the account exists or not. A link is sent only when SMTP_URL is set; '
      + 'otherwise `email_enabled` is false and the person asks a school admin or backoffice for a link. Counted as a failed sign-in '
      + 'for throttling, so it cannot be used to flood a mailbox.',
    transaction: false,
    body: z.object({ email: z.string().min(1).max(254) }),
    responses: { 202: { description: 'Sent if the account exists', schema: z.object({ email_enabled: z.boolean() }) }, ...errors(422, 429) },
    async handler({ body, ctx, req }) {
      const a = attempt(ctx, req, `reset:${body.email.trim().toLowerCase()}`);
      await throttled(ctx, a);
      await recordFailure(ctx.db, a.keys);
      if (mailConfigured(ctx)) {
        const staff = await findStaffByEmail(ctx.db, body.email.trim());
        if (staff && staff.deactivated_at === null) {
          const reset = await issueReset(ctx.db, ctx, req, staff.id, null);
          // Not awaited: how long the SMTP server takes must not tell whether the account exists.
          void mailReset(ctx, staff.email, reset);
        }
      }
      return reply.accepted({ email_enabled: mailConfigured(ctx) });
    },
  });

  api.add({
    method: 'post', path: '/api/auth/password-reset/check', summary: 'Check a reset link before asking for the new password', tags: ['auth'], auth: 'none',
    description: 'The token travels in the body, never in a URL that logs would keep.',
    transaction: false,
    body: z.object({ token: z.string().min(16).max(128) }),
    responses: { 200: { description: 'The link works: for this account', schema: z.object({ email: z.string() }) }, ...errors(400) },
    async handler({ body, db }) {
      const found = await peekPasswordReset(db, hashResetToken(body.token), new Date());
      if (!found) throw new Problem('reset_link_invalid', 'This link is unknown, was used already or has expired: ask for a new one');
      return reply.ok(found);
    },
  });

  api.add({
    method: 'post', path: '/api/auth/password-reset/complete', summary: 'Set a new password with a reset link (once) and sign in', tags: ['auth'], auth: 'none',
    description: 'The link is used up; every session of the account ends; the answer signs in as with POST /api/auth/login.',
    body: z.object({ token: z.string().min(16).max(128), password: z.string().min(8).max(1024) }),
    responses: {
      200: { description: 'Password set, signed in', schema: z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number(), staff: staffSchema }) },
      ...errors(400, 422),
    },
    async handler({ body, db, ctx }) {
      const staffId = await usePasswordReset(db, hashResetToken(body.token), new Date());
      const staff = staffId === undefined ? undefined : await findStaffById(db, staffId);
      if (!staff || staff.deactivated_at !== null) throw new Problem('reset_link_invalid', 'This link is unknown, was used already or has expired: ask for a new one');
      await updateStaff(db, staff.id, { password_hash: await hashPassword(body.password) });
      await endSessions(db, staff.id);
      await recordAudit(db, { staffId: staff.id, schoolId: staff.school_id, action: 'staff.password_set', subject: 'staff', subjectId: staff.id, details: { by: 'reset_link' } });
      return reply.ok(await signedIn(ctx, (await findStaffById(db, staff.id))!));
    },
  });

  api.add({
    method: 'post',
    path: '/v4/auth/token',
    summary: 'Device sign-in (docs/protocol/v4.md §1)',
    tags: ['device protocol'],
    auth: 'none',
    transaction: false,
    body: tokenBody,
    responses: {
      200: { description: 'A device token', schema: z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number() }) },
      ...errors(401, 422, 429),
    },
    async handler({ body, ctx, req }) {
      const uuid = z.uuid().safeParse(body.device_id);
      // Not a uuid: one shared key, so made-up ids cannot fill the table with keys of their own.
      const a = attempt(ctx, req, `device:${uuid.success ? uuid.data.toLowerCase() : 'malformed'}`);
      await throttled(ctx, a);
      const device = uuid.success ? await findDeviceCredentials(ctx.db, uuid.data) : undefined;
      const ok = device ? verifyDeviceSecret(body.secret, device.secret_hash) : false;
      if (!device || !ok || device.disabled_at !== null) return failed(ctx, a, 'invalid_credentials');
      await succeeded(ctx, a);
      const ttl = ctx.config.deviceTokenTtlSeconds;
      const token = await signDeviceToken(ctx.keys, { deviceId: device.id, schoolId: device.school_id }, ttl);
      return reply.ok({ access_token: token, token_type: 'Bearer', expires_in: ttl });
    },
  });
}

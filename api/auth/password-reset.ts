// One-time password reset links (issue #29, docs/SECURITY.md "Password resets"): 256 random
// bits, only their SHA-256 kept (like device secrets: a slow hash adds nothing to that much
// entropy), valid PASSWORD_RESET_TTL_MINUTES, used once, a newer link replacing an older one.
// The link is shown once to whoever issued it and, when SMTP_URL is set, e-mailed to the account.
import { createHash, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import nodemailer from 'nodemailer';
import type { DbOrTrx } from '../../db/database.js';
import { insertPasswordReset } from '../../db/repositories/staff.js';
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';

export function hashResetToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** This server's address as people and devices reach it: PUBLIC_URL, else the request's own. */
/** What reset links need of the api's context (its settings and logger), and no more. */
type ResetDeps = { config: Pick<Config, 'publicUrl' | 'passwordResetTtlMinutes' | 'smtpUrl' | 'smtpFrom'>; logger: Logger };

export function publicBase(ctx: ResetDeps, req: Request): string {
  return ctx.config.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export interface IssuedReset {
  url: string;
  expiresAt: Date;
}

export async function issueReset(db: DbOrTrx, ctx: ResetDeps, req: Request, staffId: number, issuedBy: number | null): Promise<IssuedReset> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ctx.config.passwordResetTtlMinutes * 60_000);
  await insertPasswordReset(db, { staffId, tokenHash: hashResetToken(token), expiresAt, issuedBy });
  // In the fragment: a browser never sends it to a server, so it stays out of access logs.
  return { url: `${publicBase(ctx, req)}/#reset?token=${token}`, expiresAt };
}

export function mailConfigured(ctx: ResetDeps): boolean {
  return ctx.config.smtpUrl !== null;
}

/** E-mails the link; false when SMTP is not configured or the server refused it (logged). */
export async function mailReset(ctx: ResetDeps, to: string, reset: IssuedReset): Promise<boolean> {
  if (!ctx.config.smtpUrl) return false;
  try {
    const transport = nodemailer.createTransport(ctx.config.smtpUrl);
    await transport.sendMail({
      from: ctx.config.smtpFrom, to,
      subject: 'Password reset / Réinitialisation du mot de passe',
      text: `To choose a new password, open this link (it works once, until ${reset.expiresAt.toISOString()}):\n${reset.url}\n\n`
        + `Pour choisir un nouveau mot de passe, ouvrez ce lien (valable une fois, jusqu'au ${reset.expiresAt.toISOString()}) :\n${reset.url}\n`,
    });
    return true;
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message }, 'password reset e-mail not sent');
    return false;
  }
}

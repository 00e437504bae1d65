// Who is calling: a staff member (staff token), a device (device token) or nobody. Staff
// rows are read on every call so a deleted or deactivated account, a changed role or a reset
// password (the session version the token carries is no longer the account's) takes effect
// at once: the same primary-key read as before, two more columns.
import type { Request } from 'express';
import { Problem } from '../../shared/errors.js';
import { findStaffAuth } from '../../db/repositories/staff.js';
import type { StaffRole } from '../../db/schema/index.js';
import { verifyDeviceToken, verifyStaffToken } from '../auth/tokens.js';
import type { AppContext } from '../context/context.js';

export interface StaffAuth {
  kind: 'staff';
  staffId: number;
  role: StaffRole;
  /** Null for backoffice: every school. */
  schoolId: number | null;
}
export interface DeviceAuth {
  kind: 'device';
  deviceId: string;
  schoolId: number;
}
export interface NoAuth {
  kind: 'none';
}
export type Auth = StaffAuth | DeviceAuth | NoAuth;

export type AuthRequirement = 'none' | 'staff' | 'backoffice' | 'device';
export type AuthFor<A extends AuthRequirement> = A extends 'staff' | 'backoffice' ? StaffAuth : A extends 'device' ? DeviceAuth : NoAuth;

function bearer(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header);
  return match ? match[1] : '';
}

/** A valid token of a device that was disabled or deleted since: the same 401 as a bad token. */
export function inactiveDevice(): Problem {
  return new Problem('invalid_token', 'This device is disabled or no longer registered');
}

export async function authenticate(ctx: AppContext, req: Request, requirement: AuthRequirement): Promise<Auth> {
  if (requirement === 'none') return { kind: 'none' };
  const token = bearer(req);
  if (requirement === 'device') {
    const claims = token ? await verifyDeviceToken(ctx.keys, token) : null;
    if (!claims) throw new Problem('invalid_token', 'A valid device token is required', {}, { 'WWW-Authenticate': 'Bearer' });
    return { kind: 'device', ...claims };
  }
  if (token === null) throw new Problem('unauthorized', 'Sign in first: Authorization: Bearer <token>', {}, { 'WWW-Authenticate': 'Bearer' });
  const claims = token ? await verifyStaffToken(ctx.keys, token) : null;
  const found = claims
    ? await findStaffAuth(ctx.db, claims.staffId)
    : undefined;
  const staff = found && found.deactivated_at === null && found.session_version === claims!.sessionVersion ? found : undefined;
  if (!staff) throw new Problem('invalid_token', 'The token is invalid or expired: sign in again', {}, { 'WWW-Authenticate': 'Bearer' });
  if (requirement === 'backoffice' && staff.role !== 'backoffice') throw new Problem('forbidden', 'Backoffice staff only');
  return { kind: 'staff', staffId: staff.id, role: staff.role, schoolId: staff.school_id };
}

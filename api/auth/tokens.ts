// JWTs per RFC 8725: HS256 only, issuer, audience and a distinct `typ` per kind, each kind
// signed with its own key derived from JWT_SECRET, so a staff token is never a device token.
import { hkdfSync } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import type { StaffRole } from '../../db/schema/index.js';

export interface TokenKeys {
  staff: Uint8Array;
  device: Uint8Array;
}

export const ISSUER = 'attendance-sync';
const STAFF = { typ: 'staff+jwt', audience: 'attendance-sync:api' } as const;
const DEVICE = { typ: 'device+jwt', audience: 'attendance-sync:v4' } as const;
const ALGORITHMS = ['HS256'];

export function deriveKeys(secret: string): TokenKeys {
  const derive = (info: string) => new Uint8Array(hkdfSync('sha256', secret, 'attendance-sync', info, 32));
  return { staff: derive('staff-token'), device: derive('device-token') };
}

export interface StaffClaims {
  staffId: number;
  role: StaffRole;
  schoolId: number | null;
}

export interface DeviceClaims {
  deviceId: string;
  schoolId: number;
}

export async function signStaffToken(keys: TokenKeys, claims: StaffClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ role: claims.role, school_id: claims.schoolId })
    .setProtectedHeader({ alg: 'HS256', typ: STAFF.typ })
    .setSubject(String(claims.staffId))
    .setIssuer(ISSUER)
    .setAudience(STAFF.audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keys.staff);
}

export async function signDeviceToken(keys: TokenKeys, claims: DeviceClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ school_id: claims.schoolId })
    .setProtectedHeader({ alg: 'HS256', typ: DEVICE.typ })
    .setSubject(claims.deviceId)
    .setIssuer(ISSUER)
    .setAudience(DEVICE.audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keys.device);
}

/** Null for anything not a valid, unexpired staff token: tampered, expired, wrong kind. */
export async function verifyStaffToken(keys: TokenKeys, token: string): Promise<StaffClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keys.staff, {
      algorithms: ALGORITHMS, issuer: ISSUER, audience: STAFF.audience, typ: STAFF.typ, requiredClaims: ['sub', 'exp', 'iat'],
    });
    const role = payload.role;
    if (role !== 'backoffice' && role !== 'school_admin') return null;
    const schoolId = typeof payload.school_id === 'number' ? payload.school_id : null;
    return { staffId: Number(payload.sub), role, schoolId };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}

export async function verifyDeviceToken(keys: TokenKeys, token: string): Promise<DeviceClaims | null> {
  try {
    const { payload } = await jwtVerify(token, keys.device, {
      algorithms: ALGORITHMS, issuer: ISSUER, audience: DEVICE.audience, typ: DEVICE.typ, requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (typeof payload.school_id !== 'number' || typeof payload.sub !== 'string') return null;
    return { deviceId: payload.sub, schoolId: payload.school_id };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}

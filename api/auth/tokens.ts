// JWTs per RFC 8725: HS256 only, issuer, audience and a distinct `typ` per kind, each kind
// signed with its own key derived from JWT_SECRET, so a staff token is never a device token.
import { hkdfSync } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import type { StaffRole } from '../../db/schema/index.js';

export interface TokenKeys {
  staff: Uint8Array<ArrayBuffer>;
  device: Uint8Array<ArrayBuffer>;
}

export const ISSUER = 'attendance-sync';
const STAFF = { typ: 'staff+jwt', audience: 'attendance-sync:api' } as const;
const DEVICE = { typ: 'device+jwt', audience: 'attendance-sync:v4' } as const;
const ALGORITHMS = ['HS256'];

export function deriveKeys(secret: string): TokenKeys {
  const derive = (info: string) => new Uint8Array(hkdfSync('sha256', secret, 'attendance-sync', info, 32));
  return { staff: derive('staff-token'), device: derive('device-token') };
}

/**
 * A kind's key as the CryptoKey jose signs and verifies with, imported once per process: given
 * the bytes, jose imports them again at every call, a second WebCrypto job as costly as the HMAC
 * (88 → 59 µs of CPU per verification; issue #31, where each upload of the accept bench verifies a token).
 */
const cryptoKeys = new WeakMap<Uint8Array<ArrayBuffer>, Promise<CryptoKey>>();
function cryptoKeyOf(bytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  let key = cryptoKeys.get(bytes);
  if (!key) cryptoKeys.set(bytes, (key = crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])));
  return key;
}

export interface StaffClaims {
  staffId: number;
  role: StaffRole;
  schoolId: number | null;
  /** The account's session version when signed (`sv`): a reset or a deactivation bumps it, ending the session. */
  sessionVersion: number;
}

export interface DeviceClaims {
  deviceId: string;
  schoolId: number;
}

export async function signStaffToken(keys: TokenKeys, claims: StaffClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ role: claims.role, school_id: claims.schoolId, sv: claims.sessionVersion })
    .setProtectedHeader({ alg: 'HS256', typ: STAFF.typ })
    .setSubject(String(claims.staffId))
    .setIssuer(ISSUER)
    .setAudience(STAFF.audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(await cryptoKeyOf(keys.staff));
}

/**
 * Device tokens signed or verified lately, by their exact text, until their own `exp`. One sync is five
 * calls with the same token within seconds; HMAC verification through WebCrypto was a fifth
 * of the api's CPU in the fleet bench. Only a token that passed every check is kept, and it
 * answers exactly as verifying it again would until it expires (the device's being disabled is
 * checked against the database on every call anyway). Bounded: the syncs in progress at once
 * are far fewer than this; the oldest entry makes room.
 */
const VERIFIED_DEVICE_TOKENS_MAX = 10_000;
const verifiedDeviceTokens = new WeakMap<TokenKeys, Map<string, { claims: DeviceClaims; expiresAtMs: number }>>();

/** Keeps a token that is valid until `expiresAtMs` (signed here, or verified). */
function remember(keys: TokenKeys, token: string, entry: { claims: DeviceClaims; expiresAtMs: number }): void {
  let cache = verifiedDeviceTokens.get(keys);
  if (!cache) verifiedDeviceTokens.set(keys, (cache = new Map()));
  if (cache.size >= VERIFIED_DEVICE_TOKENS_MAX) cache.delete(cache.keys().next().value!);
  cache.set(token, entry);
}

/** A device token, remembered as verified: the sign-in's next call (manifest) needs no verification. */
export async function signDeviceToken(keys: TokenKeys, claims: DeviceClaims, ttlSeconds: number): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ school_id: claims.schoolId })
    .setProtectedHeader({ alg: 'HS256', typ: DEVICE.typ })
    .setSubject(claims.deviceId)
    .setIssuer(ISSUER)
    .setAudience(DEVICE.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(await cryptoKeyOf(keys.device));
  remember(keys, token, { claims: { ...claims }, expiresAtMs: (issuedAt + ttlSeconds) * 1000 });
  return token;
}

/** Null for anything not a valid, unexpired staff token: tampered, expired, wrong kind. */
export async function verifyStaffToken(keys: TokenKeys, token: string): Promise<StaffClaims | null> {
  try {
    const { payload } = await jwtVerify(token, await cryptoKeyOf(keys.staff), {
      algorithms: ALGORITHMS, issuer: ISSUER, audience: STAFF.audience, typ: STAFF.typ, requiredClaims: ['sub', 'exp', 'iat'],
    });
    const role = payload.role;
    if (role !== 'backoffice' && role !== 'school_admin') return null;
    const schoolId = typeof payload.school_id === 'number' ? payload.school_id : null;
    // Tokens signed before session versions existed carry none: version 0, the column's default.
    const sessionVersion = typeof payload.sv === 'number' ? payload.sv : 0;
    return { staffId: Number(payload.sub), role, schoolId, sessionVersion };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}

export async function verifyDeviceToken(keys: TokenKeys, token: string): Promise<DeviceClaims | null> {
  const cache = verifiedDeviceTokens.get(keys);
  const hit = cache?.get(token);
  if (hit) {
    if (Date.now() < hit.expiresAtMs) return hit.claims;
    cache!.delete(token);
  }
  const verified = await verifyDeviceTokenFully(keys, token);
  if (verified) remember(keys, token, verified);
  return verified?.claims ?? null;
}

async function verifyDeviceTokenFully(keys: TokenKeys, token: string): Promise<{ claims: DeviceClaims; expiresAtMs: number } | null> {
  try {
    const { payload } = await jwtVerify(token, await cryptoKeyOf(keys.device), {
      algorithms: ALGORITHMS, issuer: ISSUER, audience: DEVICE.audience, typ: DEVICE.typ, requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (typeof payload.school_id !== 'number' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
    return { claims: { deviceId: payload.sub, schoolId: payload.school_id }, expiresAtMs: payload.exp * 1000 };
  } catch (err) {
    if (err instanceof errors.JOSEError) return null;
    throw err;
  }
}

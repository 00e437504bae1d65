// Device secrets are 256 random bits shown once; only their SHA-256 is stored. A slow hash
// adds nothing for secrets with that much entropy, and the token endpoint stays cheap.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashDeviceSecret(secret: string): string {
  return `sha256$${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

export function verifyDeviceSecret(secret: string, stored: string): boolean {
  const a = Buffer.from(hashDeviceSecret(secret));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

// The enrolment link a mobile app scans as a QR code (docs/DEVICES.md, "Enrolling a mobile
// device"): `attendance-sync://enrol?v=1&server=<base URL>&device=<uuid>&secret=<secret>`, each
// value percent-encoded. It holds the device secret: shown once, like the secret itself.
export const ENROL_SCHEME = 'attendance-sync:';

export function enrolUri(server: string, deviceId: string, secret: string): string {
  const q = new URLSearchParams({ v: '1', server, device: deviceId, secret });
  return `attendance-sync://enrol?${q.toString()}`;
}

export interface Enrolment {
  server: string;
  deviceId: string;
  secret: string;
}

/** The reading side (the mobile SDK's): null for anything but a version 1 enrolment link. */
export function parseEnrolUri(text: string): Enrolment | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== ENROL_SCHEME || url.host !== 'enrol' || url.searchParams.get('v') !== '1') return null;
  const server = url.searchParams.get('server');
  const deviceId = url.searchParams.get('device');
  const secret = url.searchParams.get('secret');
  return server && deviceId && secret ? { server, deviceId, secret } : null;
}

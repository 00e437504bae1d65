// Tiny factories: each test builds what it needs, with defaults it can override.
import { generateDeviceSecret, hashDeviceSecret } from '../../shared/auth/device-secret.js';
import { hashPassword } from '../../shared/auth/password.js';
import type { Db } from '../../db/database.js';
import type { NewAttendance, NewSchool, StaffRole } from '../../db/schema/index.js';
import { http } from './http.js';

let counter = 0;
const next = () => ++counter;

export async function aSchool(db: Db, overrides: Partial<NewSchool> = {}) {
  return db.insertInto('schools').values({ name: `School ${next()}`, ...overrides }).returningAll().executeTakeFirstOrThrow();
}

export async function aUser(db: Db, schoolId: number, overrides: { name?: string; badge?: string; enrolled_on?: string } = {}) {
  const n = next();
  return db.insertInto('users').values({ school_id: schoolId, name: `User ${n}`, badge: `T${n}`, ...overrides }).returningAll().executeTakeFirstOrThrow();
}

export async function someUsers(db: Db, schoolId: number, count: number, enrolledOn?: string) {
  const base = next() * 100_000;
  return db.insertInto('users').values(Array.from({ length: count }, (_, i) => ({
    school_id: schoolId, name: `User ${base + i}`, badge: `M${base + i}`, ...(enrolledOn && { enrolled_on: enrolledOn }),
  }))).returningAll().execute();
}

export async function aStaff(db: Db, role: StaffRole, schoolId: number | null = null, password = 'correct horse battery') {
  const email = `staff${next()}@example.test`;
  const staff = await db.insertInto('staff').values({ email, password_hash: await hashPassword(password), role, school_id: role === 'school_admin' ? schoolId : null })
    .returningAll().executeTakeFirstOrThrow();
  return { ...staff, password };
}

export async function aDevice(db: Db, schoolId: number, overrides: { disabled?: boolean; kind?: 'terminal' | 'mobile' } = {}) {
  const secret = generateDeviceSecret();
  const device = await db.insertInto('devices').values({
    school_id: schoolId, name: `Device ${next()}`, kind: overrides.kind ?? 'terminal', secret_hash: hashDeviceSecret(secret),
    disabled_at: overrides.disabled ? new Date() : null,
  }).returningAll().executeTakeFirstOrThrow();
  return { ...device, secret };
}

export async function loginAs(url: string, staff: { email: string; password: string }): Promise<string> {
  const res = await http(url, 'POST', '/api/auth/login', { body: { email: staff.email, password: staff.password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

export async function deviceToken(url: string, device: { id: string; secret: string }): Promise<string> {
  const res = await http(url, 'POST', '/v4/auth/token', { body: { device_id: device.id, secret: device.secret } });
  if (res.status !== 200) throw new Error(`device token failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** An attendance row as the import or the REST API would store it; a device row needs `device_id` and `record_id`. */
export async function anAttendance(db: Db, user: { id: number; school_id: number }, overrides: Partial<NewAttendance> = {}) {
  return db.insertInto('attendances').values({
    school_id: user.school_id, user_id: user.id, type: 'checkin', occurred_at: new Date(Date.now() - 3_600_000), device_id: null, record_id: null, ...overrides,
  }).returningAll().executeTakeFirstOrThrow();
}

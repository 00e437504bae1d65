// The simulator's world, made (or found again) through the REST API as staff would: a school
// named after the seed, its pupils, its devices. Found again means the same names: a second
// run with the same seed reuses them (device secrets are rotated, since they are shown once).
import { addDays } from '../shared/time/calendar.js';
import { http, type HttpResult } from './http.js';

export interface Admin {
  url: string;
  token: string;
}

export interface SimSchool {
  id: number;
  name: string;
  timezone: string;
  school_days: number[];
  /** °C: a check-in at or above it raises a fever event. */
  fever_threshold: number;
  day_end: string;
}

export interface SimUser {
  id: number;
  badge: string;
  enrolled_on: string;
  deleted_at: string | null;
}

export interface SimDevice {
  id: string;
  name: string;
  secret: string;
}

async function expect2xx(res: Promise<HttpResult>, what: string): Promise<any> {
  const r = await res;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function signInAdmin(url: string, email: string, password: string): Promise<Admin> {
  const body = await expect2xx(http(url, 'POST', '/api/auth/login', { body: { email, password } }), 'sign-in');
  return { url, token: body.access_token };
}

/** Every item of a keyset-paged list. */
export async function listAll<T>(admin: Admin, path: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: T[]; next_cursor: string | null } = await expect2xx(
      http(admin.url, 'GET', `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin.token }), `GET ${path}`);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

export async function ensureSchool(admin: Admin, name: string, timezone: string): Promise<{ school: SimSchool; reused: boolean }> {
  const found = (await listAll<SimSchool>(admin, '/api/schools')).find((s) => s.name === name);
  if (found) return { school: found, reused: true };
  const school = await expect2xx(http(admin.url, 'POST', '/api/schools', { token: admin.token, body: { name, timezone } }), 'create school');
  return { school, reused: false };
}

/** `count` pupils with badges `<prefix>-<n>`, enrolled from `enrolledOn` when created now. */
export async function ensureUsers(admin: Admin, schoolId: number, prefix: string, count: number, enrolledOn: string): Promise<{ users: SimUser[]; created: number }> {
  const existing = new Map((await listAll<SimUser>(admin, `/api/users?school_id=${schoolId}`)).map((u) => [u.badge, u]));
  const wanted = Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
  const missing = wanted.filter((b) => !existing.has(b));
  const made = await inParallel(missing, 8, (badge) => expect2xx(http(admin.url, 'POST', '/api/users', {
    token: admin.token, body: { school_id: schoolId, name: `Pupil ${badge}`, badge, enrolled_on: enrolledOn },
  }), 'create user') as Promise<SimUser>);
  for (const u of made) existing.set(u.badge, u);
  return { users: wanted.map((b) => existing.get(b)!), created: made.length };
}

export async function ensureDevices(admin: Admin, schoolId: number, prefix: string, count: number): Promise<{ devices: SimDevice[]; created: number }> {
  const existing = new Map((await listAll<{ id: string; name: string }>(admin, `/api/devices?school_id=${schoolId}`)).map((d) => [d.name, d]));
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(4, '0')}`);
  let created = 0;
  const devices = await inParallel(names, 8, async (name, ) => {
    const found = existing.get(name);
    if (found) {
      const body = await expect2xx(http(admin.url, 'POST', `/api/devices/${found.id}/secret`, { token: admin.token }), 'rotate secret');
      return { id: found.id, name, secret: body.secret as string };
    }
    created++;
    const body = await expect2xx(http(admin.url, 'POST', '/api/devices', {
      token: admin.token, body: { school_id: schoolId, name, kind: name.endsWith('1') ? 'mobile' : 'terminal' },
    }), 'create device');
    return { id: body.id as string, name, secret: body.secret as string };
  });
  return { devices, created };
}

/** The `count` school days before `today` (school-local), oldest first. */
export function pastSchoolDays(today: string, count: number, schoolDays: readonly number[], isoWeekday: (d: string) => number): string[] {
  const out: string[] = [];
  for (let d = addDays(today, -1); out.length < count; d = addDays(d, -1)) if (schoolDays.includes(isoWeekday(d))) out.unshift(d);
  return out;
}

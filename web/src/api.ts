// The API client: the staff token lives in sessionStorage (gone with the tab, cleared by
// logout), a 401 means the session is over, and problem+json answers become sentences a
// person can act on (the server's own details stay in English; our sentences are translated).
// GETs that answer an ETag are revalidated with If-None-Match, so unchanged figures cost a 304.

import { m } from './i18n.js';

export interface Staff {
  id: number;
  email: string;
  role: 'backoffice' | 'school_admin';
  school_id: number | null;
  name: string | null;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly code: string | null = null) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The session ended (expired or revoked token): the app shows the sign-in form with this message. */
export class SessionExpired extends ApiError {
  constructor() {
    super(401, m.sessionExpired, 'session_expired');
    this.name = 'SessionExpired';
  }
}

const TOKEN = 'attendance.token';
const STAFF = 'attendance.staff';

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN),
  staff: (): Staff | null => {
    const raw = sessionStorage.getItem(STAFF);
    return raw ? (JSON.parse(raw) as Staff) : null;
  },
  save(token: string, staff: Staff): void {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(STAFF, JSON.stringify(staff));
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(STAFF);
    revalidation.clear();
  },
};

let expiredHandler: (() => void) | null = null;
export function onSessionExpired(handler: () => void): void {
  expiredHandler = handler;
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  errors?: Array<{ field: string; message: string }>;
}

async function problemOf(res: Response): Promise<ApiError> {
  let problem: Problem = {};
  try {
    problem = (await res.json()) as Problem;
  } catch {
    // Not JSON (a proxy's error page): the status alone says enough.
  }
  const fields = problem.errors?.map((e) => `${e.field.replace(/^(body|query|params)\./, '')}: ${e.message}`).join('; ');
  const base = problem.detail ?? m.friendly[res.status] ?? m.requestFailed(res.status);
  return new ApiError(res.status, fields && !base.includes(fields) ? `${base} (${fields})` : base, problem.code ?? null);
}

async function send(method: string, path: string, opts: { body?: unknown; text?: string; headers?: Record<string, string>; auth?: boolean } = {}): Promise<Response> {
  const form = opts.body instanceof FormData ? opts.body : null;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  const token = session.token();
  if (opts.auth !== false) {
    if (!token) throw new SessionExpired();
    headers.authorization = `Bearer ${token}`;
  }
  if (opts.body !== undefined && !form) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    // no-store: revalidation is ours (If-None-Match below), not the browser cache's.
    res = await fetch(path, { method, headers, body: opts.text ?? form ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)), cache: 'no-store' });
  } catch {
    throw new ApiError(0, m.unreachable, 'network');
  }
  if (res.status === 401 && opts.auth !== false) {
    session.clear();
    expiredHandler?.();
    throw new SessionExpired();
  }
  return res;
}

export async function request<T>(method: string, path: string, body?: unknown, opts: { auth?: boolean } = {}): Promise<T> {
  const res = await send(method, path, { body, auth: opts.auth });
  if (!res.ok) throw await problemOf(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
/** A multipart upload (a roster file): the browser writes the boundary. */
export const upload = <T>(path: string, form: FormData) => request<T>('POST', path, form);
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const del = <T>(path: string) => request<T>('DELETE', path);

/** A text body of its own type (an .ics file as text/calendar), answered in JSON. */
export async function postText<T>(path: string, text: string, contentType: string): Promise<T> {
  const res = await send('POST', path, { text, headers: { 'content-type': contentType } });
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as T;
}

/** A file the server writes (an export): its bytes and the name it gives it. */
export async function getFile(path: string): Promise<{ blob: Blob; filename: string }> {
  const res = await send('GET', path, { headers: { accept: '*/*' } });
  if (!res.ok) throw await problemOf(res);
  const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return { blob: await res.blob(), filename: named?.[1] ?? 'export' };
}

/**
 * An image behind the token (an <img src> cannot send the Bearer header): the bytes as a
 * Blob for URL.createObjectURL, or null when there is none (404).
 */
export async function getImage(path: string): Promise<Blob | null> {
  const res = await send('GET', path, { headers: { accept: 'image/*' } });
  if (res.status === 404) return null;
  if (!res.ok) throw await problemOf(res);
  return res.blob();
}

const revalidation = new Map<string, { etag: string; body: unknown }>();

/** A GET revalidated with its ETag: `changed` is false when the server answered 304. */
export async function getFresh<T>(path: string): Promise<{ body: T; changed: boolean }> {
  const cached = revalidation.get(path);
  const res = await send('GET', path, { headers: cached ? { 'if-none-match': cached.etag } : {} });
  if (res.status === 304 && cached) return { body: cached.body as T, changed: false };
  if (!res.ok) throw await problemOf(res);
  const body = (await res.json()) as T;
  const etag = res.headers.get('etag');
  if (etag) revalidation.set(path, { etag, body });
  return { body, changed: true };
}

/** Every page of a keyset-paged list (the server caps a page at 500 items). */
export async function getAll<T>(path: string, max = 5000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: T[]; next_cursor: string | null } = await get(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

// A small fetch wrapper: JSON in, status + parsed body out. Shared by the protocol client,
// the simulator, the benchmarks and the tests. Calls to an api host that is gone go to another
// one of the same fleet (simulator/failover.ts).
import { onConnectionFailure, route } from './failover.js';
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HttpOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Aborts the request after this many milliseconds (the caller sees an AbortError). */
  timeoutMs?: number;
  /** Drops the connection once the answer's headers arrived, without reading it: the server did the work, the caller never learns. */
  dropResponse?: boolean;
}

/** The request may or may not have reached the server; only a retry tells. */
export class NetworkError extends Error {
  constructor(readonly kind: 'dropped' | 'timeout' | 'refused', message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

export async function http<T = any>(base: string, method: string, path: string, opts: HttpOptions = {}): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined;
  if (opts.body instanceof FormData) body = opts.body;
  else if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const abort = new AbortController();
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => abort.abort(), opts.timeoutMs) : null;
  try {
    let res: Response;
    const target = route(base);
    try {
      res = await fetch(`${target}${path}`, { method, headers, body, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) throw new NetworkError('timeout', `${method} ${path}: timed out after ${opts.timeoutMs} ms`);
      const failover = onConnectionFailure(target, err);
      if (failover?.resend) return await http<T>(failover.resend, method, path, opts);
      throw new NetworkError('refused', `${method} ${path}: ${(err as Error).message}`);
    }
    if (opts.dropResponse) {
      abort.abort();
      await res.body?.cancel().catch(() => undefined);
      throw new NetworkError('dropped', `${method} ${path}: connection dropped before the answer was read`);
    }
    const type = res.headers.get('content-type') ?? '';
    let parsed: unknown;
    try {
      parsed = type.includes('json') ? await res.json() : type.includes('zip') || type.includes('octet') || type.startsWith('image/') ? Buffer.from(await res.arrayBuffer()) : await res.text();
    } catch (err) {
      if (abort.signal.aborted) throw new NetworkError('timeout', `${method} ${path}: timed out while reading the answer`);
      throw err;
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

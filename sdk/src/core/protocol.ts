// The v4 calls (docs/protocol/v4.md §1, §3, §9.1) over `fetch`, with the answers checked by shape
// (zod): sign-in and token refresh, status (with `?wait`), manifest, upload, instructions, ack.
// Each call answers its parsed body or throws SyncError with the problem's `code`; a lost answer or
// a timeout is `network_error`. `401 invalid_token` signs in again and repeats the call once.
import * as z from 'zod/mini';
import { SyncError, LOCAL_CODES } from './errors.js';
import type { Channel, Identity } from './types.js';

const Token = z.object({ access_token: z.string(), expires_in: z.number() });
export const StatusBody = z.object({ status: z.number(), session_id: z.nullable(z.string()), changed_at: z.optional(z.nullable(z.string())) });
export const ManifestBody = z.object({
  files: z.array(z.object({ name: z.string(), required: z.boolean() })),
  high_water_marks: z.record(z.string(), z.number()),
  max_archive_bytes: z.number(),
  server_time: z.string(),
  resend: z.optional(z.object({ file: z.string(), from: z.string(), to: z.string() })),
});
const Accepted = z.object({ session_id: z.string(), status: z.number() });
const AckBody = z.object({ status: z.number() });

export type StatusAnswer = z.infer<typeof StatusBody>;
export type Manifest = z.infer<typeof ManifestBody>;

export interface ProtocolOptions {
  fetch: typeof fetch;
  /** The device clock, for the token's lifetime only. */
  now: () => Date;
  /** Per-call timeout in ms (status?wait adds its wait). */
  timeoutMs: number;
}

export interface Timed<T> {
  body: T;
  /** Device clock when the request left and when the answer came. */
  sentAt: number;
  receivedAt: number;
}

export class V4Protocol {
  private token: string | null = null;
  private tokenUntil = 0;

  constructor(private readonly identity: Identity, private readonly opts: ProtocolOptions) {}

  private get base(): string {
    return this.identity.server.replace(/\/+$/, '');
  }

  /** Signs in (§1); throws invalid_credentials when the device is unknown, disabled or its secret rotated. */
  async signIn(): Promise<void> {
    const res = await this.raw('POST', '/v4/auth/token', { json: { device_id: this.identity.deviceId, secret: this.identity.secret } });
    const body = parse(Token, await res.json(), 'token');
    this.token = body.access_token;
    // Renew a little early (a tenth of the lifetime, at most 30 s); measured on the device clock,
    // which only has to be steady, not right. A token that expired anyway answers invalid_token.
    this.tokenUntil = this.opts.now().getTime() + (body.expires_in - Math.min(30, body.expires_in / 10)) * 1000;
  }

  /** A token the device already holds (enrolled long ago): used until it expires, then a sign-in. */
  useToken(token: string, expiresInSeconds: number): void {
    this.token = token;
    this.tokenUntil = this.opts.now().getTime() + (expiresInSeconds - Math.min(30, expiresInSeconds / 10)) * 1000;
  }

  /** Forgets the token (tests: "expired while offline"). */
  dropToken(): void {
    this.token = null;
  }

  async status(channel: Channel, waitSeconds = 0): Promise<StatusAnswer> {
    const q = waitSeconds > 0 ? `?wait=${Math.min(30, Math.floor(waitSeconds))}` : '';
    const res = await this.authed('GET', `/v4/${channel}/status${q}`, { extraTimeoutMs: waitSeconds * 1000 });
    return parse(StatusBody, await res.json(), 'status');
  }

  async manifest(channel: Channel): Promise<Timed<Manifest>> {
    const sentAt = this.opts.now().getTime();
    const res = await this.authed('GET', `/v4/${channel}/manifest`);
    const body = parse(ManifestBody, await res.json(), 'manifest');
    return { body, sentAt, receivedAt: this.opts.now().getTime() };
  }

  /** §3.3: 202 with the session; the same bytes again answer the same session. */
  async upload(channel: Channel, archive: Uint8Array): Promise<{ sessionId: string; status: number }> {
    const res = await this.authed('POST', `/v4/${channel}/datas`, {
      form: () => {
        const form = new FormData();
        form.append('archive', new Blob([archive as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), 'batch.zip');
        return form;
      },
    });
    const body = parse(Accepted, await res.json(), 'upload');
    return { sessionId: body.session_id, status: body.status };
  }

  /** §3.4: the package's bytes, checked against its ETag (SHA-256) where the platform can hash. */
  async instructions(channel: Channel): Promise<{ sessionId: string; zip: Uint8Array }> {
    const res = await this.authed('GET', `/v4/${channel}/instructions`);
    const zip = new Uint8Array(await res.arrayBuffer());
    const sessionId = res.headers.get('x-session-id') ?? '';
    const etag = (res.headers.get('etag') ?? '').replace(/^W\//, '').replace(/"/g, '');
    const subtle = globalThis.crypto?.subtle;
    if (etag && subtle) {
      const digest = new Uint8Array(await subtle.digest('SHA-256', zip as Uint8Array<ArrayBuffer>));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      if (hex !== etag.toLowerCase()) throw new SyncError(LOCAL_CODES.badPackage, 'The instruction package does not match its ETag', 0, {}, undefined, channel);
    }
    return { sessionId, zip };
  }

  /** §3.5: answers the channel's status after the acknowledgement. */
  async ack(channel: Channel, sessionId: string): Promise<number> {
    const res = await this.authed('POST', `/v4/${channel}/ack`, { json: { session_id: sessionId } });
    return parse(AckBody, await res.json(), 'ack').status;
  }

  private async authed(method: string, path: string, body: RequestBody = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (!this.token || this.opts.now().getTime() >= this.tokenUntil) await this.signIn();
      try {
        return await this.raw(method, path, body, this.token!);
      } catch (err) {
        // §1: no refresh token; on invalid_token sign in again and repeat the call (once).
        if (err instanceof SyncError && err.code === 'invalid_token' && attempt === 0) {
          this.token = null;
          continue;
        }
        throw err;
      }
    }
  }

  private async raw(method: string, path: string, body: RequestBody, token?: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, application/zip' };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: BodyInit | undefined;
    if (body.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body.form) payload = body.form();
    const channel = /^\/v4\/(synchro|appel)\//.exec(path)?.[1] as Channel | undefined;
    let res: Response;
    try {
      res = await this.opts.fetch(this.base + path, {
        method, headers, body: payload, signal: AbortSignal.timeout(this.opts.timeoutMs + (body.extraTimeoutMs ?? 0)),
      });
    } catch (err) {
      throw new SyncError(LOCAL_CODES.network, `The server could not be reached (${(err as Error).message})`, 0, {}, undefined, channel);
    }
    if (res.ok) return res;
    let problem: Record<string, unknown> = {};
    try {
      problem = (await res.json()) as Record<string, unknown>;
    } catch {
      // a proxy's HTML page, an empty body: keep the HTTP status
    }
    const code = typeof problem.code === 'string' ? problem.code : httpFallbackCode(res.status);
    const retryAfter = Number(res.headers.get('retry-after') ?? problem.retry_after ?? NaN);
    const detail = typeof problem.detail === 'string' ? problem.detail : res.statusText;
    throw new SyncError(code, `${res.status} ${code}: ${detail}`, res.status, problem, Number.isFinite(retryAfter) ? retryAfter : undefined, channel);
  }
}

interface RequestBody {
  json?: unknown;
  form?: () => FormData;
  extraTimeoutMs?: number;
}

/** A refusal without a problem body (a proxy in front of the server): the code its status implies. */
function httpFallbackCode(status: number): string {
  if (status === 413) return 'archive_too_large';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'service_unavailable';
  if (status === 401) return 'invalid_token';
  if (status >= 500) return 'internal_error';
  return `http_${status}`;
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new SyncError(LOCAL_CODES.badAnswer, `Unexpected ${what} answer from the server`);
  return r.data;
}

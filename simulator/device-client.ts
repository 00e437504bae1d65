// A device speaking docs/protocol/v4.md over real HTTP: sign in, status, manifest, upload, wait,
// fetch, ack. The plain calls answer whatever the server said (tests assert on them); `sync`
// and `syncReliably` run a whole sync, the latter surviving lost answers, timeouts, 503s and
// expired tokens by retrying exactly as the protocol allows (§3, §8):
//  - an upload is retried with the very same bytes, so a lost 202 comes back with the same session;
//  - GETs (status, manifest, instructions) are safe to repeat;
//  - an ack is repeated: acknowledging an acknowledged session answers 200 again;
//  - 503 server_busy waits Retry-After (nothing was stored); 401 invalid_token signs in again.
import { readPackage, type Package } from './batch.js';
import { http, NetworkError, type HttpOptions, type HttpResult } from './http.js';

export interface DeviceIdentity {
  id: string;
  secret: string;
}

/** Decides, per request, whether the network fails it: `dropResponse` or a `timeoutMs`. */
export type FaultInjector = (call: string) => Pick<HttpOptions, 'dropResponse' | 'timeoutMs'> | null;

export interface ClientOptions {
  faults?: FaultInjector;
  /** Status polling interval while the batch is processed. */
  pollMs?: number;
  /**
   * Ask the server to hold the status call while the batch is processed (`status?wait=N`,
   * docs/PROTOCOL-EXTENSIONS.md) instead of polling every `pollMs`. A server without the
   * extension answers at once, and the client then polls as before.
   */
  statusWaitSeconds?: number;
  /** Scales every wait (Retry-After, backoff); the simulator shortens them. */
  waitScale?: number;
  /** Attempts per call before giving up. */
  attempts?: number;
}

export interface SyncOutcome {
  sessionId: string;
  pkg: Package;
  /** Failed attempts that were retried during this sync (lost answers, timeouts, 503, 401). */
  retries: number;
  /** The upload needed more than one attempt (the same bytes each time). */
  uploadRetried: boolean;
  /** From the 202 to reading status 2, as the device saw it. */
  acceptedToReadyMs: number;
  uploadMs: number;
}

export class SyncFailed extends Error {}

export class DeviceClient {
  token = '';
  retries = 0;

  constructor(readonly url: string, readonly identity: DeviceIdentity, readonly channel = 'synchro', readonly opts: ClientOptions = {}) {}

  async signIn(): Promise<this> {
    const res = await http(this.url, 'POST', '/v4/auth/token', { body: { device_id: this.identity.id, secret: this.identity.secret } });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status}`);
    this.token = res.body.access_token;
    return this;
  }

  call(method: string, path: string, body?: unknown): Promise<HttpResult> {
    return http(this.url, method, `/v4/${this.channel}/${path}`, { token: this.token, body });
  }

  status() { return this.call('GET', 'status'); }
  manifest() { return this.call('GET', 'manifest'); }

  upload(archive: Buffer, field = 'archive', filename = 'batch.zip'): Promise<HttpResult> {
    return http(this.url, 'POST', `/v4/${this.channel}/datas`, { token: this.token, body: uploadForm(archive, field, filename) });
  }

  async waitForStatus(wanted: number, timeoutMs = 30_000): Promise<HttpResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.status();
      if (res.body.status === wanted) return res;
      if (Date.now() > deadline) throw new Error(`status stayed ${res.body.status}, wanted ${wanted}`);
      await sleep(this.opts.pollMs ?? 50);
    }
  }

  instructions(): Promise<HttpResult> { return this.call('GET', 'instructions'); }
  ack(sessionId: string): Promise<HttpResult> { return this.call('POST', 'ack', { session_id: sessionId }); }

  /** Upload, wait for the package, read it, acknowledge: one whole sync on a perfect network. */
  async sync(archive: Buffer): Promise<{ sessionId: string; pkg: Package }> {
    const up = await this.upload(archive);
    if (up.status !== 202) throw new Error(`upload refused: ${up.status} ${JSON.stringify(up.body)}`);
    await this.waitForStatus(2);
    const res = await this.instructions();
    const pkg = readPackage(res.body as Buffer);
    const ack = await this.ack(up.body.session_id);
    if (ack.status !== 200) throw new Error(`ack refused: ${ack.status}`);
    return { sessionId: up.body.session_id, pkg };
  }

  // ---- the same, on an unreliable network ----

  /** One request with injected faults; retried on network errors, 401 (sign in again) and 503 (Retry-After). */
  private async reliable(call: string, method: string, path: string, body?: () => unknown, accept: (r: HttpResult) => boolean = (r) => r.status < 400): Promise<HttpResult> {
    const attempts = this.opts.attempts ?? 30;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResult | null = null;
      try {
        if (!this.token && path !== '/v4/auth/token') await this.signInReliably();
        const fault = this.opts.faults?.(call) ?? {};
        res = await http(this.url, method, path, { token: path === '/v4/auth/token' ? undefined : this.token, body: body?.(), ...fault });
      } catch (err) {
        if (!(err instanceof NetworkError) || attempt >= attempts) throw err;
      }
      if (res && accept(res)) return res;
      if (res && (!isRetryable(res) || (res.status === 401 && path === '/v4/auth/token'))) throw new SyncFailed(`${call}: ${res.status} ${JSON.stringify(res.body)}`);
      if (attempt >= attempts) throw new SyncFailed(`${call}: gave up after ${attempts} attempts (last: ${res?.status ?? 'network error'})`);
      this.retries++;
      if (res?.status === 401 && path !== '/v4/auth/token') this.token = '';
      const retryAfter = res?.status === 503 ? Number(res.headers.get('retry-after') ?? 1) * 1000 : Math.min(2000, 20 * 2 ** attempt);
      await sleep(retryAfter * (this.opts.waitScale ?? 1));
    }
  }

  async signInReliably(): Promise<void> {
    const res = await this.reliable('token', 'POST', '/v4/auth/token', () => ({ device_id: this.identity.id, secret: this.identity.secret }));
    this.token = res.body.access_token;
  }

  /** The status, the manifest, then `build(manifest)`'s archive through upload → package → ack, whatever the network does. */
  async syncReliably(build: (manifest: any) => Buffer): Promise<SyncOutcome> {
    const before = this.retries;
    const v4 = `/v4/${this.channel}`;
    // A sync interrupted earlier (by a crash of ours) is finished first.
    const status = await this.reliable('status', 'GET', `${v4}/status`);
    if (status.body.status !== 0) await this.finish(status.body.session_id);
    const manifest = await this.reliable('manifest', 'GET', `${v4}/manifest`);
    const archive = build(manifest.body);
    const started = performance.now();
    const retriesBeforeUpload = this.retries;
    const up = await this.reliable('datas', 'POST', `${v4}/datas`, () => uploadForm(archive), (r) => r.status === 202);
    const accepted = performance.now();
    const sessionId = up.body.session_id as string;
    const pkg = await this.finish(sessionId);
    const ready = pkg.readyAt;
    return {
      sessionId, pkg: pkg.pkg, retries: this.retries - before, uploadRetried: this.retries > retriesBeforeUpload,
      acceptedToReadyMs: ready - accepted, uploadMs: accepted - started,
    };
  }

  /** Waits for `sessionId`'s package, reads it and acknowledges it. */
  private async finish(sessionId: string): Promise<{ pkg: Package; readyAt: number }> {
    const v4 = `/v4/${this.channel}`;
    const wait = this.opts.statusWaitSeconds ? `?wait=${this.opts.statusWaitSeconds}` : '';
    for (;;) {
      const asked = performance.now();
      const s = await this.reliable('status', 'GET', `${v4}/status${wait}`);
      if (s.body.status === 2 && s.body.session_id === sessionId) break;
      if (s.body.status === 0 && s.body.session_id === sessionId) throw new SyncFailed(`session ${sessionId} already acknowledged`);
      if (s.body.session_id !== sessionId) throw new SyncFailed(`status names session ${s.body.session_id}, expected ${sessionId}`);
      // A wait that ended early without a change (a server without the extension, a restart): poll.
      if (!wait || performance.now() - asked < (this.opts.statusWaitSeconds! * 1000) / 2) await sleep(this.opts.pollMs ?? 50);
    }
    const readyAt = performance.now();
    const res = await this.reliable('instructions', 'GET', `${v4}/instructions`);
    if (res.headers.get('x-session-id') !== sessionId) throw new SyncFailed(`package of session ${res.headers.get('x-session-id')}, expected ${sessionId}`);
    const pkg = readPackage(res.body as Buffer);
    await this.reliable('ack', 'POST', `${v4}/ack`, () => ({ session_id: sessionId }));
    return { pkg, readyAt };
  }
}

function uploadForm(archive: Buffer, field = 'archive', filename = 'batch.zip'): FormData {
  const form = new FormData();
  form.append(field, new Blob([new Uint8Array(archive)], { type: 'application/zip' }), filename);
  return form;
}

/** 401 (token expired), 503 (busy) and 5xx are worth another attempt; other refusals are final. */
function isRetryable(res: HttpResult): boolean {
  return res.status === 401 || res.status === 503 || res.status >= 500;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

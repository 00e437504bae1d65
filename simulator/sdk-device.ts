// A simulated v4 device running on the device SDK (sdk/, issue 30): the simulator's fleet and the
// fleet benchmark sync through the same client an app ships, so every CI run exercises it. The
// SDK keeps its queue in memory storage here; its events give the record id of each queued row
// (the ground truth keys stored rows by it), every refusal, and each batch's 202 → status 2 time.
// The network's faults are injected under the SDK, in `fetch`: an answer lost after the server
// handled the request, or a request that times out.
import { SyncClient, type SyncReport } from '../sdk/src/index.js';
import { memoryStorage } from '../sdk/src/adapters/memory.js';
import type { DeviceIdentity, FaultInjector } from './device-client.js';
import { onConnectionFailure, route } from './failover.js';

export interface SdkDeviceOptions {
  faults?: FaultInjector;
  /** Scales the SDK's pauses (Retry-After, backoff); the simulator shortens them. */
  waitScale?: number;
  /** `status?wait=N` while a batch is processed (the SDK's default 25). */
  statusWaitSeconds?: number;
  /** Whole sync() calls per `syncAll` before giving up (each retries its calls a few times itself). */
  attempts?: number;
  /** The pause between two status polls when not waiting on `status?wait` (the SDK's default 500 ms × waitScale). */
  pollIntervalMs?: number;
  /**
   * A device token it holds (the fleet benchmark's devices have signed in long ago): the SDK uses
   * it until it expires, and enrols without a call.
   */
  token?: string;
  /** The roster version it holds (the fleet benchmark's devices synced before). */
  rosterVersion?: number;
}

/** What one `syncAll` did, as the simulator reports it. */
export interface SdkSyncOutcome {
  /** sync() calls that ended on an error and were repeated. */
  failedSyncs: number;
  /** The same archive was uploaded more than once (a lost 202, a timeout). */
  uploadRetried: boolean;
  /** From the last 202 to reading status 2, as the device saw it (null when no upload was accepted). */
  acceptedToReadyMs: number | null;
  /** Packages that said `processing_failed` (their rows stay queued and go again). */
  processingFailed: number;
  reports: SyncReport[];
}

export class SyncFailed extends Error {}

/** Node's fetch error for a connection that failed, as a lost answer or a timeout looks to a client. */
const lost = (what: string) => new TypeError(`fetch failed (${what}, injected)`);

export class SdkDevice {
  /** Requests that failed and were repeated by the SDK or by `syncAll`: injected faults, 401, 503, 5xx. */
  retries = 0;
  private uploads = 0;
  private acceptedToReadyMs: number | null = null;
  /** Tag (what `checkIn` was given) → the row's key in the SDK; key → the record id the SDK gave it. */
  private readonly keyOfTag = new Map<unknown, number>();
  private readonly idOfKey = new Map<number, number>();
  /** Every refusal the SDK reported, by record id (its state keeps the last 200 only). */
  readonly refusals = new Map<number, Set<string>>();

  private constructor(readonly identity: DeviceIdentity, readonly client: SyncClient, private readonly opts: SdkDeviceOptions) {
    client.onEvent((e) => {
      if (e.type === 'numbered') for (const r of e.rows) this.idOfKey.set(r.key, r.recordId);
      else if (e.type === 'ready' && e.acceptedAtMs !== undefined) this.acceptedToReadyMs = e.atMs - e.acceptedAtMs;
      else if (e.type === 'refused' && e.refusal.recordId !== undefined) {
        const codes = this.refusals.get(e.refusal.recordId) ?? new Set<string>();
        codes.add(e.refusal.code);
        this.refusals.set(e.refusal.recordId, codes);
      }
    });
  }

  static async open(url: string, identity: DeviceIdentity, opts: SdkDeviceOptions = {}): Promise<SdkDevice> {
    let device: SdkDevice | null = null;
    // Many devices in one process: each syncs under its own storage lease, never a process-wide Web Lock.
    const client = await SyncClient.open({
      storage: memoryStorage(), lock: 'lease', waitScale: opts.waitScale, statusWaitSeconds: opts.statusWaitSeconds, pollIntervalMs: opts.pollIntervalMs,
      fetch: (input, init) => device!.fetch(input, init),
    });
    device = new SdkDevice(identity, client, opts);
    // No call at enrolment: the first sync checks the secret (or uses the token it holds).
    await client.enrol({ server: url, deviceId: identity.id, secret: identity.secret }, {
      check: false, ...(opts.token !== undefined ? { accessToken: opts.token } : {}), ...(opts.rosterVersion !== undefined ? { rosterVersion: opts.rosterVersion } : {}),
    });
    return device;
  }

  /** Queues a check-in (`tag` names it, to find its record id later). */
  async checkIn(tag: unknown, row: { userId: number; type: 'checkin' | 'checkout'; at: Date; temperature: number | null }): Promise<void> {
    const queued = await this.client.checkIn({ userId: row.userId, type: row.type, at: row.at, ...(row.temperature === null ? {} : { temperature: row.temperature }) });
    if (tag !== undefined) this.keyOfTag.set(tag, queued.key);
  }

  /** The record id the SDK gave the row queued with `tag`, once it went into a batch. */
  recordIdOf(tag: unknown): number | undefined {
    const key = this.keyOfTag.get(tag);
    return key === undefined ? undefined : this.idOfKey.get(key);
  }

  /** Syncs until nothing waits and the last sync() succeeded, as an app's scheduler would. */
  async syncAll(): Promise<SdkSyncOutcome> {
    const attempts = this.opts.attempts ?? 30;
    this.uploads = 0;
    this.acceptedToReadyMs = null;
    const reports: SyncReport[] = [];
    let failedSyncs = 0;
    let processingFailed = 0;
    for (let attempt = 1; ; attempt++) {
      const report = await this.client.sync();
      reports.push(report);
      const failedPackages = report.errors.filter((e) => e.code === 'processing_failed').length;
      processingFailed += failedPackages;
      if (report.ok && this.client.state.waiting === 0) break;
      if (report.ok && failedPackages === 0) {
        // Rows still wait after a clean sync: a batch size limit, or rows queued meanwhile; go on.
        if (attempt >= attempts) throw new SyncFailed(`${this.client.state.waiting} rows still waiting after ${attempts} syncs`);
        continue;
      }
      failedSyncs++;
      this.retries++;
      if (attempt >= attempts) throw new SyncFailed(`gave up after ${attempts} syncs: ${report.error?.code ?? 'rows waiting'} ${report.error?.message ?? ''}`);
      if (report.error?.class === 'give-up' || report.error?.class === 'fix-and-resend') throw new SyncFailed(`${report.error.code}: ${report.error.message}`);
      await new Promise((r) => setTimeout(r, 20 * (this.opts.waitScale ?? 1) * Math.min(50, 2 ** attempt)));
    }
    return { failedSyncs, uploadRetried: this.uploads > 1, processingFailed, acceptedToReadyMs: this.acceptedToReadyMs, reports };
  }

  /** The network under the SDK: real HTTP, with the injected faults, counting what is repeated. */
  private async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = String(input instanceof Request ? input.url : input);
    const call = /\/v4\/(?:auth\/token|[a-z]+\/([a-z]+))/.exec(url)?.[1] ?? 'token';
    if (call === 'datas') this.uploads++;
    const fault = this.opts.faults?.(call) ?? null;
    const pending = typeof input === 'string' ? this.send(input, init) : globalThis.fetch(input, init);
    if (fault?.timeoutMs !== undefined) {
      // The request goes on at the server; the device stops waiting.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(lost(`timed out after ${fault.timeoutMs} ms`)), fault.timeoutMs); });
      try {
        const res = await Promise.race([pending, gaveUp]);
        return this.seen(res);
      } catch (err) {
        this.retries++;
        pending.then((r) => r.body?.cancel(), () => undefined);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    }
    const res = await pending;
    if (fault?.dropResponse) {
      // Handled by the server, the answer lost on the way back.
      await res.arrayBuffer().catch(() => undefined);
      this.retries++;
      throw lost('answer lost');
    }
    return this.seen(res);
  }

  /**
   * The api host a call goes to: the device's own unless it is down (simulator/failover.ts, the
   * hosts suite's api hosts); a refused connection never reached a server, so it goes at once to
   * the other host.
   */
  private async send(url: string, init?: RequestInit): Promise<Response> {
    const { origin } = new URL(url);
    const rest = url.slice(origin.length);
    const target = route(origin);
    try {
      return await globalThis.fetch(`${target}${rest}`, init);
    } catch (err) {
      const failover = onConnectionFailure(target, err);
      if (failover?.resend) return globalThis.fetch(`${failover.resend}${rest}`, init);
      throw err;
    }
  }

  /** Counts answers that the SDK repeats (401 signs in again, 5xx and 503 are retried). */
  private seen(res: Response): Response {
    if (res.status === 401 || res.status >= 500) this.retries++;
    return res;
  }
}

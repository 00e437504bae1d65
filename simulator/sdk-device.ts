// A simulated v4 device running on the device SDK (sdk/, issue 30): the simulator's fleet and the
// fleet benchmark sync through the same client an app ships, so every CI run exercises it. The
// SDK keeps its queue in memory storage here; the simulator watches that storage to learn the
// record id the SDK gave each row (the ground truth keys stored rows by it) and the SDK's state
// for the rows the server refused. The network's faults are injected under the SDK, in `fetch`:
// an answer lost after the server handled the request, or a request that times out.
import { SyncClient, type ClientState, type Refusal, type StorageChanges, type StoredRow, type SyncReport, type SyncStorage } from '../sdk/src/index.js';
import { memoryStorage } from '../sdk/src/adapters/memory.js';
import { readPackage } from './batch.js';
import type { DeviceIdentity, FaultInjector } from './device-client.js';

export interface SdkDeviceOptions {
  faults?: FaultInjector;
  /** Scales the SDK's pauses (Retry-After, backoff); the simulator shortens them. */
  waitScale?: number;
  /** `status?wait=N` while a batch is processed (the SDK's default 25). */
  statusWaitSeconds?: number;
  /** Whole sync() calls per `syncAll` before giving up (each retries its calls a few times itself). */
  attempts?: number;
  /**
   * A device token minted beforehand (the fleet benchmark's devices have signed in long ago): the
   * SDK's sign-in is answered with it here, without a call to the server. Enrolment is then offline.
   */
  token?: string;
  /**
   * What the SDK's storage holds before it opens (its meta values), e.g. the roster version a
   * device that synced before reports (`rosterVersion`: the fleet benchmark's devices hold the roster).
   */
  storedMeta?: Record<string, unknown>;
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
  private packagesFailed = 0;
  private acceptedAt: number | null = null;
  private readyAt: number | null = null;
  private offline = false;
  /** Row key → the value passed to `record` for it; then key → record id once the SDK numbers it. */
  private readonly tagOfKey = new Map<number, unknown>();
  private readonly idOfKey = new Map<number, number>();
  private readonly keyOfTag = new Map<unknown, number>();
  private tagging: unknown = undefined;
  /** Every refusal the SDK reported, by record id (its state keeps the last 200 only). */
  readonly refusals = new Map<number, Set<string>>();
  private readonly seenRefusals = new Set<string>();

  private constructor(readonly identity: DeviceIdentity, readonly client: SyncClient, private readonly opts: SdkDeviceOptions) {}

  static async open(url: string, identity: DeviceIdentity, opts: SdkDeviceOptions = {}): Promise<SdkDevice> {
    let device: SdkDevice | null = null;
    const base = memoryStorage();
    if (opts.storedMeta) await base.commit({ meta: opts.storedMeta });
    const storage: SyncStorage = {
      ...base,
      async addRow(row: StoredRow) {
        const key = await base.addRow(row);
        device?.noteKey(key);
        return key;
      },
      async commit(changes: StorageChanges) {
        await base.commit(changes);
        for (const r of changes.rows ?? []) if (r.key !== undefined && r.recordId !== null) device?.idOfKey.set(r.key, r.recordId);
      },
    };
    // Many devices in one process: each syncs under its own storage lease, never a process-wide Web Lock.
    const client = await SyncClient.open({
      storage, lock: 'lease', waitScale: opts.waitScale, statusWaitSeconds: opts.statusWaitSeconds,
      fetch: (input, init) => device!.fetch(input, init),
    });
    device = new SdkDevice(identity, client, opts);
    client.subscribe((state) => device!.noteRefusals(state));
    // Offline enrolment is fine: the first sync checks the secret. With a token given, the device
    // has been enrolled long ago: no call.
    device.offline = opts.token !== undefined;
    try {
      await client.enrol({ server: url, deviceId: identity.id, secret: identity.secret });
    } finally {
      device.offline = false;
    }
    return device;
  }

  /** Queues a check-in (`tag` names it, to find its record id later). */
  async checkIn(tag: unknown, row: { userId: number; type: 'checkin' | 'checkout'; at: Date; temperature: number | null }): Promise<void> {
    this.tagging = tag;
    try {
      await this.client.checkIn({ userId: row.userId, type: row.type, at: row.at, ...(row.temperature === null ? {} : { temperature: row.temperature }) });
    } finally {
      this.tagging = undefined;
    }
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
    this.packagesFailed = 0;
    this.acceptedAt = null;
    this.readyAt = null;
    const reports: SyncReport[] = [];
    let failedSyncs = 0;
    for (let attempt = 1; ; attempt++) {
      const report = await this.client.sync();
      reports.push(report);
      if (report.ok && this.client.state.waiting === 0) break;
      if (report.ok && this.packagesFailed === 0) {
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
    const acceptedToReadyMs = this.acceptedAt !== null && this.readyAt !== null ? this.readyAt - this.acceptedAt : null;
    return { failedSyncs, uploadRetried: this.uploads > 1, processingFailed: this.packagesFailed, acceptedToReadyMs, reports };
  }

  private noteKey(key: number): void {
    if (this.tagging === undefined) return;
    this.tagOfKey.set(key, this.tagging);
    this.keyOfTag.set(this.tagging, key);
  }

  private noteRefusals(state: ClientState): void {
    for (const r of state.refused) {
      const seen = refusalKey(r);
      if (this.seenRefusals.has(seen)) continue;
      this.seenRefusals.add(seen);
      if (r.recordId === undefined) continue;
      const codes = this.refusals.get(r.recordId) ?? new Set<string>();
      codes.add(r.code);
      this.refusals.set(r.recordId, codes);
    }
  }

  /** The network under the SDK: real HTTP, with the injected faults, counting what is repeated. */
  private async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = String(input instanceof Request ? input.url : input);
    const call = /\/v4\/(?:auth\/token|[a-z]+\/([a-z]+))/.exec(url)?.[1] ?? 'token';
    if (this.offline) throw lost('offline');
    if (call === 'token' && this.opts.token !== undefined) {
      return Response.json({ access_token: this.opts.token, token_type: 'Bearer', expires_in: 3600 });
    }
    if (call === 'datas') this.uploads++;
    const fault = this.opts.faults?.(call) ?? null;
    const pending = globalThis.fetch(input, init);
    if (fault?.timeoutMs !== undefined) {
      // The request goes on at the server; the device stops waiting.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(lost(`timed out after ${fault.timeoutMs} ms`)), fault.timeoutMs); });
      try {
        const res = await Promise.race([pending, gaveUp]);
        return await this.seen(call, res);
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
    return this.seen(call, res);
  }

  /** Counts refusals worth a retry, packages that say `processing_failed`, and when the batch was accepted and ready. */
  private async seen(call: string, res: Response): Promise<Response> {
    if (res.status === 401 || res.status >= 500) this.retries++;
    if (call === 'datas' && res.status === 202) {
      this.acceptedAt = performance.now();
      this.readyAt = null;
    }
    if (call === 'status' && res.status === 200 && this.acceptedAt !== null && this.readyAt === null) {
      const status = (await res.clone().json()) as { status?: number };
      if (status.status === 2) this.readyAt = performance.now();
    }
    if (call !== 'instructions' || res.status !== 200) return res;
    const bytes = Buffer.from(await res.arrayBuffer());
    if (readPackage(bytes).all('error').some((e) => e.code === 'processing_failed')) this.packagesFailed++;
    return new Response(bytes, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
}

function refusalKey(r: Refusal): string {
  return `${r.channel}/${r.line}/${r.recordId ?? ''}/${r.code}/${r.at}`;
}

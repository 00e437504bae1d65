// SyncClient: the durable outbox and the sync state machine of docs/protocol/v4.md §3.7, per channel.
//
// Everything that matters is in storage before the network sees it, so a client killed at any
// point resumes where it stopped when it is opened again on the same storage:
//
//   (no batch) ── status 1: wait; status 2: finish that session (package, apply, ack)
//       │ status 0: read the manifest, plan the rows, allocate ids, build the zip
//       ▼
//   FROZEN (bytes stored) ── upload the same bytes until 202 ──► ACCEPTED (session id stored)
//       ▲   413: drop, split (nothing was stored)          │ status?wait until 2
//       │   409 sync_in_progress: finish the other session  ▼
//       │                                               package: apply (rows stored/refused,
//       └── status 0 and the package not applied:       roster, settings, flags), then ack
//           the session was reset: send the bytes again    │
//                                                          ▼ batch deleted ──► (no batch)
import { batchZip, deviceXml, logCsv, settingsXml } from './archive.js';
import { classify, LOCAL_CODES, refusalMessage, SyncError } from './errors.js';
import { clockOffsetMs, planBatch } from './outbox.js';
import { readPackage, type InstructionPackage } from './package-reader.js';
import { V4Protocol, type Manifest } from './protocol.js';
import {
  CHANNELS, LOG_FILE, type Channel, type ClientState, type ExcuseReason, type Identity, type MarkValue, type Refusal,
  type PackageErrorReport, type QueuedRow, type RosterEntry, type StorageChanges, type StoredBatch, type StoredRow, type SyncErrorInfo,
  type SyncEvent, type SyncStorage,
} from './types.js';
import type { StatusAnswer } from './protocol.js';

export interface OpenOptions {
  storage: SyncStorage;
  /** Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** The device clock (tests skew it). Default: () => new Date(). */
  now?: () => Date;
  /** What device.xml reports besides the clock. */
  device?: { firmware?: string; timezone?: string };
  /** Rows per batch at most (before the manifest's byte limit). Default 2,000. */
  maxBatchRows?: number;
  /** Per-call HTTP timeout, ms. Default 30,000. */
  timeoutMs?: number;
  /** `status?wait=N` while a batch is processed. Default 25. */
  statusWaitSeconds?: number;
  /** The pause between two status calls when the server answers `status?wait` at once (an older server, or `statusWaitSeconds: 0`), not scaled by `waitScale`. Default 500 × waitScale. */
  pollIntervalMs?: number;
  /** The longest Retry-After the client waits inside one sync() before giving up until the next one. Default 60. */
  maxRetryAfterSeconds?: number;
  /**
   * How long one sync() waits for the server to process a batch (status 1) before it ends with
   * `still_processing` (retry-later); the next sync() goes on waiting for the same session. Default 120.
   */
  maxProcessingWaitSeconds?: number;
  /**
   * Rows the server confirmed stored are kept this many days (RESEND_SINCE and FULL_RESYNC send
   * them again), then deleted; a PURGE_CONFIRMED_LOGS flag deletes them at once. Default 62.
   */
  keepStoredDays?: number;
  /** Scales every pause (tests shorten them). Default 1. */
  waitScale?: number;
  /**
   * How two tabs on one storage agree that one of them syncs: `web-locks` (navigator.locks),
   * `lease` (a lease row in storage), `auto` (Web Locks where present, else the lease).
   */
  lock?: 'auto' | 'web-locks' | 'lease';
  /** The Web Lock's name. Default `attendance-sync:<device id>`: one per device, so many devices in one process do not wait for each other. */
  lockName?: string;
}

export interface CheckIn {
  userId: number;
  type: 'checkin' | 'checkout';
  /** When it happened, on the device clock (default: now); the SDK corrects it by the server's clock offset. */
  at?: Date;
  temperature?: number;
  photo?: string;
}

export interface Mark {
  userId: number;
  /** The school-local day marked, YYYY-MM-DD. */
  date: string;
  mark: MarkValue;
  period?: string;
  /** Required with `excused`, refused with any other mark. */
  reason?: ExcuseReason;
  at?: Date;
}

export interface ChannelReport {
  /** Rows the server confirmed stored during this sync. */
  stored: number;
  refused: number;
  sessions: string[];
  skipped?: 'unsupported' | 'nothing-to-send';
}

export interface SyncReport {
  ok: boolean;
  error?: SyncErrorInfo;
  channels: Partial<Record<Channel, ChannelReport>>;
  /** Flags delivered by the packages of this sync (e.g. REBOOT). */
  flags: string[];
  /** Every row refused during this sync, all channels (`state.refused` keeps only the last 200). */
  refusals: Refusal[];
  /** File-level `<error>`s and `processing_failed` of the packages of this sync. */
  errors: PackageErrorReport[];
}

/** `enrol`'s second argument: a device that enrolled long ago and kept what it held (or an enrolment made offline). */
export interface EnrolOptions {
  /** A device token it holds: used until it expires or the server answers invalid_token, then the SDK signs in. No call at enrolment. */
  accessToken?: string;
  /** Its lifetime from now. Default 3,600. */
  tokenExpiresInSeconds?: number;
  /** The roster version it holds (device.xml reports it; the server sends the roster only when it changed). */
  rosterVersion?: number;
  /** False: make no call now (the first sync checks the secret). Default true, but false when `accessToken` is given. */
  check?: boolean;
}

type Listener = (state: ClientState) => void;
type EventListener = (event: SyncEvent) => void;

const META = {
  identity: 'identity',
  clockOffset: 'clockOffsetMs',
  roster: 'roster',
  rosterVersion: 'rosterVersion',
  settings: 'settings',
  refused: 'refused',
  lastSentAt: 'lastSentAt',
  restart: 'restartRequested',
  next: (c: Channel) => `next:${c}`,
  floor: (c: Channel) => `floor:${c}`,
  maxRows: (c: Channel) => `maxRows:${c}`,
  maxBytes: (c: Channel) => `maxBytes:${c}`,
  applied: (c: Channel) => `applied:${c}`,
  refusedUploads: (c: Channel) => `refusedUploads:${c}`,
  /** True when the channel is known to hold no session (after our ack, or a status 0): the next sync skips `status`. */
  idle: (c: Channel) => `idle:${c}`,
} as const;

const MAX_REFUSALS_KEPT = 200;
const LEASE_TTL_MS = 90_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class SyncClient {
  private identity: Identity | null = null;
  private protocol: V4Protocol | null = null;
  private listeners = new Set<Listener>();
  private eventListeners = new Set<EventListener>();
  /** When each session's 202 arrived (Date.now()), for the `ready` event. */
  private acceptedAt = new Map<string, number>();
  /** The report of the sync running, for refusals and package errors. */
  private report: SyncReport | null = null;
  private rosterCache: RosterEntry[] = [];
  private settingsCache: Record<string, string> = {};
  private rosterVersion = 0;
  private offsetMs = 0;
  private running: Promise<SyncReport> | null = null;
  private closed = false;
  private readonly holder = randomId();
  private current: ClientState = {
    enrolled: false, online: true, syncing: false, waiting: 0, lastSentAt: null, lastError: null, refused: [], clockSkewMs: 0,
    restartRequested: false, unsupportedChannels: [],
  };

  private constructor(private readonly opts: OpenOptions & { fetch: typeof fetch; now: () => Date }) {}

  /** Opens the client on its storage: whatever an earlier run left (queued rows, a batch mid-flight) is picked up by the next sync(). */
  static async open(options: OpenOptions): Promise<SyncClient> {
    const client = new SyncClient({ ...options, fetch: options.fetch ?? ((...a) => globalThis.fetch(...a)), now: options.now ?? (() => new Date()) });
    await client.load();
    return client;
  }

  private async load(): Promise<void> {
    const s = this.opts.storage;
    const identity = (await s.meta<Identity>(META.identity)) ?? null;
    const same = identity && this.identity && identity.deviceId === this.identity.deviceId && identity.secret === this.identity.secret && identity.server === this.identity.server;
    if (!same) this.protocol = identity ? this.newProtocol(identity) : null; // a new identity: a new sign-in
    this.identity = identity;
    this.offsetMs = (await s.meta<number>(META.clockOffset)) ?? 0;
    this.rosterCache = (await s.meta<RosterEntry[]>(META.roster)) ?? [];
    this.rosterVersion = (await s.meta<number>(META.rosterVersion)) ?? 0;
    this.settingsCache = (await s.meta<Record<string, string>>(META.settings)) ?? {};
    this.current = {
      ...this.current,
      enrolled: this.identity !== null,
      online: typeof navigator !== 'undefined' && typeof navigator.onLine === 'boolean' ? navigator.onLine : this.current.online,
      waiting: await s.countWaiting(),
      lastSentAt: (await s.meta<string>(META.lastSentAt)) ?? null,
      refused: (await s.meta<Refusal[]>(META.refused)) ?? [],
      clockSkewMs: -this.offsetMs,
      restartRequested: (await s.meta<boolean>(META.restart)) ?? false,
    };
  }

  private newProtocol(identity: Identity): V4Protocol {
    return new V4Protocol(identity, { fetch: this.opts.fetch, now: this.opts.now, timeoutMs: this.opts.timeoutMs ?? 30_000 });
  }

  get enrolled(): boolean {
    return this.identity !== null;
  }

  /** The enrolled device's id, or null. */
  get deviceId(): string | null {
    return this.identity?.deviceId ?? null;
  }

  get state(): ClientState {
    return this.current;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  /**
   * Hears what happens during syncs, one event at a time: rows numbered (record ids given), a batch
   * accepted (202) and ready (status 2), each refused row, each package error. Answers an unsubscribe.
   */
  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private emit(event: SyncEvent): void {
    for (const l of this.eventListeners) {
      try {
        l(event);
      } catch {
        // a listener's fault is the app's, not the sync's
      }
    }
  }

  /** The record id of a queued row (by the key checkIn/mark answered), once it went into a batch; null before, undefined when no longer held. */
  async recordIdOf(key: number): Promise<number | null | undefined> {
    for (const c of CHANNELS) {
      const row = (await this.opts.storage.rows(c)).find((r) => r.key === key);
      if (row) return row.recordId;
    }
    return undefined;
  }

  private setState(patch: Partial<ClientState>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) {
      try {
        l(this.current);
      } catch {
        // a listener's fault is the UI's, not the sync's
      }
    }
  }

  /** The roster of the last instruction package (§5.5). */
  roster(): RosterEntry[] {
    return this.rosterCache;
  }

  /** Settings received from the server (`SET_SETTINGS`). */
  settings(): Record<string, string> {
    return this.settingsCache;
  }

  /** The device clock corrected by the server's (the clock rows are stamped with). */
  now(): Date {
    return new Date(this.opts.now().getTime() + this.offsetMs);
  }

  /** Forget the "restart requested" of a REBOOT flag once the app restarted. */
  async clearRestartRequest(): Promise<void> {
    await this.opts.storage.commit({ meta: { [META.restart]: false } });
    this.setState({ restartRequested: false });
  }

  /**
   * Enrols the device (the QR code's server, id and secret: parseEnrolUri). Signs in to check the
   * secret and to read the server's clock; offline, the identity is kept and checked at the first sync.
   * Enrolling another device id on a storage that held one forgets that device's ids and batches;
   * rows still waiting are kept and sent as the new device's.
   */
  async enrol(e: Identity, options: EnrolOptions = {}): Promise<void> {
    const identity: Identity = { server: e.server.replace(/\/+$/, ''), deviceId: e.deviceId, secret: e.secret };
    const protocol = this.newProtocol(identity);
    if (options.accessToken) protocol.useToken(options.accessToken, options.tokenExpiresInSeconds ?? 3600);
    let manifest: Awaited<ReturnType<V4Protocol['manifest']>> | null = null;
    try {
      if ((options.check ?? !options.accessToken) === true) {
        await protocol.signIn();
        manifest = await protocol.manifest('synchro');
      }
    } catch (err) {
      if (!(err instanceof SyncError) || err.code !== LOCAL_CODES.network) throw err;
    }
    const s = this.opts.storage;
    const previous = await s.meta<Identity>(META.identity);
    const changes: StorageChanges = { meta: { [META.identity]: identity } };
    if (previous && previous.deviceId !== identity.deviceId) {
      // Another device: its ids, batches, roster and marks mean nothing to the new one.
      const rows: StoredRow[] = [];
      const drop: number[] = [];
      for (const c of CHANNELS) {
        for (const r of await s.rows(c)) {
          if (r.state === 'waiting') rows.push({ ...r, recordId: null });
          else drop.push(r.key!);
        }
        await s.commit({ batch: { channel: c, value: null } });
        Object.assign(changes.meta!, { [META.next(c)]: 1, [META.floor(c)]: 0, [META.applied(c)]: null, [META.maxRows(c)]: null, [META.idle(c)]: null });
      }
      Object.assign(changes.meta!, { [META.roster]: [], [META.rosterVersion]: 0 });
      changes.rows = rows;
      changes.deleteRows = drop;
      this.rosterCache = [];
      this.rosterVersion = 0;
    }
    if (manifest) Object.assign(changes.meta!, this.clockFrom(manifest.body, manifest.sentAt, manifest.receivedAt));
    if (options.rosterVersion !== undefined) changes.meta![META.rosterVersion] = options.rosterVersion;
    await s.commit(changes);
    if (options.rosterVersion !== undefined) this.rosterVersion = options.rosterVersion;
    this.identity = identity;
    this.protocol = protocol;
    this.setState({ enrolled: true, online: true, waiting: await s.countWaiting() });
  }

  /** Queues a check-in or check-out (a `synchro` attendances.csv row), durably; answers its local key. */
  async checkIn(c: CheckIn): Promise<QueuedRow> {
    if (!Number.isSafeInteger(c.userId) || c.userId < 1) throw new TypeError(`userId must be a positive integer, got ${c.userId}`);
    if (c.type !== 'checkin' && c.type !== 'checkout') throw new TypeError(`type must be checkin or checkout, got ${String(c.type)}`);
    const at = this.corrected(c.at);
    const fields: Record<string, string> = { user_id: String(c.userId), type: c.type, occurred_at: at, temperature: c.temperature === undefined ? '' : String(c.temperature), photo: c.photo ?? '' };
    return this.queue('synchro', at, fields);
  }

  /** Queues a roll-call mark (an `appel` marks.csv row, §7.4), durably; answers its local key. */
  async mark(m: Mark): Promise<QueuedRow> {
    if (!Number.isSafeInteger(m.userId) || m.userId < 1) throw new TypeError(`userId must be a positive integer, got ${m.userId}`);
    if (!DATE.test(m.date)) throw new TypeError(`date must be YYYY-MM-DD, got ${m.date}`);
    if (!['present', 'late', 'absent', 'excused'].includes(m.mark)) throw new TypeError(`mark must be present, late, absent or excused, got ${m.mark}`);
    if ((m.mark === 'excused') !== (m.reason !== undefined)) throw new TypeError('a reason goes with an excused mark, and only with it');
    const at = this.corrected(m.at);
    const fields: Record<string, string> = { user_id: String(m.userId), date: m.date, period: m.period ?? '', mark: m.mark, reason: m.reason ?? '', marked_at: at };
    return this.queue('appel', at, fields);
  }

  private corrected(at?: Date): string {
    return new Date((at ?? this.opts.now()).getTime() + this.offsetMs).toISOString();
  }

  private async queue(channel: Channel, at: string, fields: Record<string, string>): Promise<QueuedRow> {
    const key = await this.opts.storage.addRow({ channel, recordId: null, at, fields, state: 'waiting' });
    this.setState({ waiting: await this.opts.storage.countWaiting() });
    return { key, channel, at };
  }

  /** Marks the browser's online/offline events (the scheduler calls it). */
  setOnline(online: boolean): void {
    if (online !== this.current.online) this.setState({ online });
  }

  /**
   * Sends every channel with waiting rows, and `synchro` always (its package brings the roster,
   * settings and flags). Never throws for the network or the server: the report (and `state`) says
   * what happened. A sync already running (here or in another tab) is not started twice.
   */
  sync(): Promise<SyncReport> {
    if (this.running) return this.running;
    this.running = this.locked().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async locked(): Promise<SyncReport> {
    const mode = this.opts.lock ?? 'auto';
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    // One lock per device identity: two tabs of one app (one storage, one device) exclude each
    // other, while many devices in one process (the simulator) sync side by side.
    const deviceId = (await this.opts.storage.meta<Identity>(META.identity))?.deviceId ?? 'unenrolled';
    const name = this.opts.lockName ?? `attendance-sync:${deviceId}`;
    if (mode !== 'lease' && locks) {
      return locks.request(name, { ifAvailable: true }, async (lock) => (lock ? this.run(false) : this.busyReport()));
    }
    if (mode === 'web-locks') throw new Error('navigator.locks is not available here');
    if (!(await this.opts.storage.lease(this.holder, LEASE_TTL_MS, Date.now()))) return this.busyReport();
    try {
      return await this.run(true);
    } finally {
      await this.opts.storage.release(this.holder).catch(() => undefined);
    }
  }

  private busyReport(): SyncReport {
    return { ok: false, error: this.errorInfo(new SyncError(LOCAL_CODES.locked, 'Another tab of this app is syncing')), channels: {}, flags: [], refusals: [], errors: [] };
  }

  private useLease = false;

  private async run(lease: boolean): Promise<SyncReport> {
    this.useLease = lease;
    const report: SyncReport = { ok: true, channels: {}, flags: [], refusals: [], errors: [] };
    await this.load(); // another tab may have enrolled or synced since: its identity, roster, settings, refusals
    if (!this.identity || !this.protocol) {
      const error = this.errorInfo(new SyncError(LOCAL_CODES.notEnrolled, 'The device is not enrolled'));
      this.setState({ lastError: error });
      return { ...report, ok: false, error };
    }
    this.setState({ syncing: true });
    this.report = report;
    try {
      for (const channel of CHANNELS) {
        if (this.current.unsupportedChannels.includes(channel)) {
          report.channels[channel] = { stored: 0, refused: 0, sessions: [], skipped: 'unsupported' };
          continue;
        }
        report.channels[channel] = await this.syncChannel(channel, report);
      }
      this.setState({ lastError: null, online: true });
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      const error = this.errorInfo(err);
      report.ok = false;
      report.error = error;
      this.setState({ lastError: error, online: err.code === LOCAL_CODES.network ? false : true });
    } finally {
      this.report = null;
      this.setState({ syncing: false, waiting: await this.opts.storage.countWaiting() });
    }
    return report;
  }

  private errorInfo(err: SyncError): SyncErrorInfo {
    return { code: err.code, class: err.class, message: err.message, ...(err.channel ? { channel: err.channel } : {}), at: this.opts.now().toISOString() };
  }

  /** Renews the lease before each step; losing it (another tab took over an expired one) stops this sync. */
  private async step(): Promise<V4Protocol> {
    if (this.closed) throw new SyncError(LOCAL_CODES.locked, 'The client was closed');
    if (this.useLease && !(await this.opts.storage.lease(this.holder, LEASE_TTL_MS, Date.now()))) {
      throw new SyncError(LOCAL_CODES.locked, 'Another tab of this app took over the sync');
    }
    return this.protocol!;
  }

  private async syncChannel(channel: Channel, report: SyncReport): Promise<ChannelReport> {
    const out: ChannelReport = { stored: 0, refused: 0, sessions: [] };
    const s = this.opts.storage;
    let pinged = channel !== 'synchro';
    const hasWork = async () => (await s.batch(channel)) !== undefined || (await s.rows(channel, 'waiting')).length > 0;
    if (pinged && !(await hasWork())) return { ...out, skipped: 'nothing-to-send' };
    // The channel holds no session (our last ack, or a status 0 read): no `status` call needed.
    let idle = (await s.meta<boolean>(META.idle(channel))) === true;
    // A status already read and not yet acted on (status?wait answered it).
    let known: StatusAnswer | null = null;
    // The last manifest offered a RESEND_SINCE window: the next one may offer the next window.
    let resending = false;
    try {
      for (let round = 0; round < 1000; round++) {
        let batch = await s.batch(channel);
        if (!batch) {
          if (!idle) {
            const status = known ?? (await this.retrying(channel, (p) => p.status(channel)));
            known = null;
            if (status.status === 1) {
              known = await this.waitWhileProcessing(channel, status.session_id!);
              continue;
            }
            if (status.status === 2) {
              const done = await this.finishSession(channel, status.session_id!, null, out, report, status);
              if (done.acked) {
                idle = true;
                if (!done.resend && !(await this.hasWaiting(channel))) return out;
              }
              continue;
            }
            idle = true;
            await s.commit({ meta: { [META.idle(channel)]: true } });
          }
          const manifest = await this.retrying(channel, (p) => p.manifest(channel));
          await s.commit({ meta: this.clockFrom(manifest.body, manifest.sentAt, manifest.receivedAt) });
          resending = manifest.body.resend?.file === LOG_FILE[channel];
          // synchro uploads once per sync even with nothing to send (its package brings the roster,
          // settings and flags), unless a package of this sync already did.
          const frozen = await this.freeze(channel, manifest.body, !pinged && out.sessions.length === 0);
          if (!frozen) return out;
          batch = frozen;
          pinged = true;
        }
        if (batch.stage === 'frozen') {
          // Accepted, refused or split: the channel's state is no longer known without asking.
          idle = false;
          known = null;
          await this.send(channel, batch);
          continue;
        }
        const done = await this.finishSession(channel, batch.sessionId!, batch, out, report);
        if (done.acked) {
          idle = true;
          // It knows what it holds: no second round (status, manifest) when nothing waits and no package asked for a resend.
          if (!done.resend && !resending && !(await this.hasWaiting(channel))) return out;
        } else {
          idle = false;
        }
      }
      throw new SyncError('too_many_rounds', 'The sync did not settle', 0, {}, undefined, channel);
    } catch (err) {
      if (err instanceof SyncError && err.code === 'unknown_channel') {
        this.setState({ unsupportedChannels: [...this.current.unsupportedChannels, channel] });
        return { ...out, skipped: 'unsupported' };
      }
      throw err;
    }
  }

  private async hasWaiting(channel: Channel): Promise<boolean> {
    return (await this.opts.storage.rows(channel, 'waiting')).length > 0;
  }

  /** Plans the next batch from the manifest and stores its bytes; null when there is nothing to send. */
  private async freeze(channel: Channel, manifest: Manifest, ping: boolean): Promise<StoredBatch | null> {
    const s = this.opts.storage;
    const file = LOG_FILE[channel];
    const hwm = manifest.high_water_marks[file] ?? 0;
    const rows = await s.rows(channel);
    const floor = Math.max((await s.meta<number>(META.floor(channel))) ?? 0);
    let maxRows = (await s.meta<number>(META.maxRows(channel))) ?? this.opts.maxBatchRows ?? 2000;
    const resend = manifest.resend && manifest.resend.file === file ? manifest.resend : null;
    const needsSettings = manifest.files.some((f) => f.name === 'settings.xml' && f.required);
    // A 413 taught us a lower limit than the manifest's (a proxy in front, or another api's setting).
    const maxBytes = Math.min(manifest.max_archive_bytes, (await s.meta<number>(META.maxBytes(channel))) ?? Infinity);
    for (;;) {
      const plan = planBatch({ rows, highWaterMark: hwm, floor, nextRecordId: (await s.meta<number>(META.next(channel))) ?? 1, maxRows, resend });
      const files: Record<string, string> = {
        'device.xml': deviceXml({
          ...this.opts.device, clock: this.now(), pendingRecords: rows.filter((r) => r.state === 'waiting').length - plan.nowStored.length,
          ...(channel === 'synchro' ? { rosterVersion: this.rosterVersion } : {}),
        }),
      };
      if (needsSettings) files['settings.xml'] = settingsXml(this.settingsCache);
      if (plan.rows.length > 0) files[file] = logCsv(channel, plan.rows.map((r) => ({ recordId: r.recordId!, fields: r.fields })));
      if (plan.rows.length === 0 && !ping && !needsSettings && !resend) {
        if (plan.nowStored.length > 0) await s.commit({ rows: plan.nowStored });
        return null;
      }
      const bytes = batchZip(files);
      if (bytes.length > maxBytes && plan.rows.length > 1) {
        maxRows = Math.max(1, Math.floor(plan.rows.length / 2));
        continue;
      }
      const batch: StoredBatch = {
        channel, id: randomId(), bytes, rowKeys: plan.rows.map((r) => r.key!), recordIds: plan.rows.map((r) => r.recordId!),
        stage: 'frozen', createdAt: this.opts.now().toISOString(), rebuilds: 0,
      };
      // Ids, the stored marks and the frozen bytes in one write: a crash leaves all or nothing.
      await s.commit({ rows: [...plan.rows, ...plan.nowStored], batch: { channel, value: batch }, meta: { [META.next(channel)]: plan.nextRecordId, [META.idle(channel)]: null } });
      const unnumbered = new Set(rows.filter((r) => r.recordId === null).map((r) => r.key));
      const numbered = plan.rows.filter((r) => unnumbered.has(r.key));
      if (numbered.length > 0) this.emit({ type: 'numbered', channel, rows: numbered.map((r) => ({ key: r.key!, recordId: r.recordId! })) });
      return batch;
    }
  }

  /** Uploads a frozen batch's bytes; the outcome is stored before anything else happens. */
  private async send(channel: Channel, batch: StoredBatch): Promise<void> {
    const s = this.opts.storage;
    try {
      const accepted = await this.retrying(channel, (p) => p.upload(channel, batch.bytes));
      const atMs = Date.now();
      await s.commit({ batch: { channel, value: { ...batch, stage: 'accepted', sessionId: accepted.sessionId } }, meta: { [META.refusedUploads(channel)]: 0 } });
      this.acceptedAt.set(accepted.sessionId, atMs);
      this.emit({ type: 'accepted', channel, sessionId: accepted.sessionId, rows: batch.rowKeys.length, atMs });
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      if (err.code === 'sync_in_progress') {
        // Another session holds the channel (a batch of ours whose bytes we no longer have, or
        // one sent before a wipe): finish it, then send ours.
        const sessionId = typeof err.problem.session_id === 'string' ? err.problem.session_id : null;
        if (sessionId && err.problem.status === 1) await this.waitWhileProcessing(channel, sessionId);
        else if (sessionId) await this.finishSession(channel, sessionId, null, { stored: 0, refused: 0, sessions: [] }, { ok: true, channels: {}, flags: [], refusals: [], errors: [] });
        return;
      }
      if (err.code === 'archive_too_large') {
        // Nothing was stored: split. Half the rows, or the server's limit if it says one.
        const half = Math.max(1, Math.floor(batch.rowKeys.length / 2));
        const limit = typeof err.problem.max_archive_bytes === 'number' && err.problem.max_archive_bytes < batch.bytes.length ? err.problem.max_archive_bytes : null;
        if (batch.rowKeys.length <= 1) await this.giveUp(channel, batch, err);
        else await s.commit({ batch: { channel, value: null }, meta: limit ? { [META.maxBytes(channel)]: limit } : { [META.maxRows(channel)]: half } });
        return;
      }
      if (err.class === 'fix-and-resend') {
        // The archive was refused as a whole; rebuild it once from the rows and the fresh manifest.
        const refused = ((await s.meta<number>(META.refusedUploads(channel))) ?? 0) + 1;
        if (refused >= 2) await this.giveUp(channel, batch, err);
        else await s.commit({ batch: { channel, value: null }, meta: { [META.refusedUploads(channel)]: refused } });
        return;
      }
      throw err;
    }
  }

  /** A batch no resend can get accepted: its rows are reported refused so the queue moves on. */
  private async giveUp(channel: Channel, batch: StoredBatch, err: SyncError): Promise<void> {
    const s = this.opts.storage;
    const byKey = new Map((await s.rows(channel)).map((r) => [r.key!, r]));
    const rows: StoredRow[] = [];
    const refusals: Refusal[] = [];
    batch.rowKeys.forEach((key, i) => {
      const row = byKey.get(key);
      if (!row || row.state !== 'waiting') return;
      rows.push({ ...row, state: 'refused' });
      refusals.push({
        channel, file: LOG_FILE[channel], line: i + 2, ...(row.recordId !== null ? { recordId: row.recordId } : {}), code: err.code,
        message: `The server refused the whole batch (${err.code}).`, row: row.fields, key, at: this.opts.now().toISOString(),
      });
    });
    const refused = [...this.current.refused, ...refusals].slice(-MAX_REFUSALS_KEPT);
    await s.commit({ rows, batch: { channel, value: null }, meta: { [META.refused]: refused, [META.refusedUploads(channel)]: 0, [META.maxRows(channel)]: null } });
    this.setState({ refused, waiting: await s.countWaiting() });
    this.announce(refusals);
  }

  /** Refusals into the running sync's report, and one event each. */
  private announce(refusals: readonly Refusal[]): void {
    this.report?.refusals.push(...refusals);
    for (const refusal of refusals) this.emit({ type: 'refused', refusal });
  }

  /** status?wait until the session leaves status 1; answers the last status read. */
  private async waitWhileProcessing(channel: Channel, sessionId: string): Promise<StatusAnswer> {
    const wait = this.opts.statusWaitSeconds ?? 25;
    const giveUpAt = Date.now() + (this.opts.maxProcessingWaitSeconds ?? 120) * 1000;
    for (;;) {
      if (Date.now() > giveUpAt) throw new SyncError(LOCAL_CODES.processing, 'The server is still importing the batch; the next sync goes on waiting', 0, {}, undefined, channel);
      const asked = Date.now();
      const st = await this.retrying(channel, (p) => p.status(channel, wait));
      if (st.status !== 1 || st.session_id !== sessionId) return st;
      // An older server answers at once: pause between two quick answers (§9.1).
      // Without status?wait (statusWaitSeconds 0) every poll pauses.
      if (wait <= 0 || Date.now() - asked < (wait * 1000) / 2) {
        const poll = this.opts.pollIntervalMs;
        if (poll === undefined) await this.pause(500);
        else await new Promise((r) => setTimeout(r, poll));
      }
    }
  }

  /**
   * Waits for `sessionId`'s package, applies it and acknowledges it; `batch` is ours when we know it,
   * `read` a status 2 of that session read just before. `acked`: the channel holds no session now;
   * `resend`: the package asked for rows again (RESEND_SINCE, FULL_RESYNC, processing_failed).
   */
  private async finishSession(
    channel: Channel, sessionId: string, batch: StoredBatch | null, out: ChannelReport, report: SyncReport, read?: StatusAnswer,
  ): Promise<{ acked: boolean; resend: boolean }> {
    const s = this.opts.storage;
    const notYet = { acked: false, resend: false };
    const status = read?.status === 2 && read.session_id === sessionId ? read : await this.waitWhileProcessing(channel, sessionId);
    if (status.status === 2 && status.session_id === sessionId) {
      const readyAt = Date.now();
      let pkg: InstructionPackage;
      try {
        const got = await this.retrying(channel, (p) => p.instructions(channel));
        if (got.sessionId && got.sessionId !== sessionId) return notYet; // the status moved on: read it again
        pkg = readPackage(got.zip);
      } catch (err) {
        if (err instanceof SyncError && err.code === 'no_instructions_ready') return notYet;
        throw err;
      }
      const acceptedAtMs = this.acceptedAt.get(sessionId);
      this.acceptedAt.delete(sessionId);
      this.emit({ type: 'ready', channel, sessionId, atMs: readyAt, ...(acceptedAtMs !== undefined ? { acceptedAtMs } : {}) });
      await this.apply(channel, sessionId, pkg, batch, out, report);
      try {
        await this.retrying(channel, (p) => p.ack(channel, sessionId));
      } catch (err) {
        // session_mismatch: reset by staff meanwhile, or acknowledged already: read the status again.
        if (!(err instanceof SyncError) || err.code !== 'session_mismatch') throw err;
        await s.commit({ ...(batch ? { batch: { channel, value: null } } : {}), meta: { [META.idle(channel)]: null } });
        out.sessions.push(sessionId);
        return notYet;
      }
      out.sessions.push(sessionId);
      await s.commit({ ...(batch ? { batch: { channel, value: null } } : {}), meta: { [META.idle(channel)]: true } });
      const resend = pkg.flags.some((f) => f.name === 'RESEND_SINCE' || f.name === 'FULL_RESYNC') || pkg.errors.some((e) => e.retry);
      return { acked: true, resend };
    }
    if (!batch || batch.sessionId !== sessionId) return notYet;
    // Our session is no longer waiting: acknowledged (we stopped before forgetting the batch) or
    // reset by staff (its package never served: send the same bytes again, a new session).
    const applied = await s.meta<string>(META.applied(channel));
    await s.commit({ batch: { channel, value: applied === sessionId ? null : { ...batch, stage: 'frozen', sessionId: undefined } } });
    return notYet;
  }

  /** §5.8: rows stored or refused, roster, settings, clock, flags. Idempotent: a package applied twice changes nothing more. */
  private async apply(channel: Channel, sessionId: string, pkg: InstructionPackage, batch: StoredBatch | null, out: ChannelReport, report: SyncReport): Promise<void> {
    const s = this.opts.storage;
    const file = LOG_FILE[channel];
    const meta: Record<string, unknown> = { [META.applied(channel)]: sessionId };
    const rows = await s.rows(channel);
    const byKey = new Map(rows.map((r) => [r.key!, r]));
    const byRecord = new Map(rows.filter((r) => r.recordId !== null).map((r) => [r.recordId!, r]));
    const changed = new Map<number, StoredRow>();
    const refusals: Refusal[] = [];
    const now = this.opts.now().toISOString();

    for (const rej of pkg.rejections) {
      if (rej.file !== file) continue;
      const key = batch && rej.line >= 2 ? batch.rowKeys[rej.line - 2] : undefined;
      const row = (key !== undefined ? byKey.get(key) : undefined) ?? (rej.recordId !== undefined ? byRecord.get(rej.recordId) : undefined);
      if (row && row.state === 'refused') continue; // applied before
      if (row) changed.set(row.key!, { ...row, state: 'refused' });
      refusals.push({
        channel, file, line: rej.line, ...(rej.recordId !== undefined ? { recordId: rej.recordId } : {}), code: rej.code,
        ...(rej.detail ? { detail: rej.detail } : {}), message: refusalMessage(rej.code), ...(row ? { row: row.fields, key: row.key! } : {}), at: now,
      });
    }
    const imp = pkg.imports.find((i) => i.file === file);
    if (imp) {
      meta[META.floor(channel)] = Math.max((await s.meta<number>(META.floor(channel))) ?? 0, imp.highWaterMark);
      for (const row of rows) {
        if (row.state !== 'waiting' || changed.has(row.key!) || row.recordId === null || row.recordId > imp.highWaterMark) continue;
        changed.set(row.key!, { ...row, state: 'stored' });
        out.stored++;
      }
      if (imp.accepted + imp.duplicates > 0) meta[META.lastSentAt] = now;
    }
    // A file error on our log that is not worth a retry (csv_invalid): give the rows up rather than send them forever.
    const fileError = pkg.errors.find((e) => e.file === file && !e.retry);
    if (fileError && batch) {
      batch.rowKeys.forEach((key, i) => {
        const row = changed.get(key) ?? byKey.get(key);
        if (!row || row.state !== 'waiting') return;
        changed.set(key, { ...row, state: 'refused' });
        refusals.push({ channel, file, line: i + 2, ...(row.recordId ? { recordId: row.recordId } : {}), code: fileError.code, ...(fileError.detail ? { detail: fileError.detail } : {}), message: refusalMessage(fileError.code), row: row.fields, key, at: now });
      });
    }
    out.refused += refusals.length;

    const keepMs = (this.opts.keepStoredDays ?? 62) * 86_400_000;
    const deleteRows: number[] = rows.filter((r) => r.state === 'stored' && Date.parse(r.at) < this.now().getTime() - keepMs).map((r) => r.key!);
    if (channel === 'synchro') {
      if (pkg.roster) {
        const roster = pkg.roster.mode === 'full' ? pkg.roster.entries : upsert(this.rosterCache, pkg.roster.entries);
        meta[META.roster] = roster;
        meta[META.rosterVersion] = pkg.roster.version;
      }
      if (pkg.settings) meta[META.settings] = { ...this.settingsCache, ...pkg.settings };
      for (const flag of pkg.flags) {
        report.flags.push(flag.name);
        if (flag.name === 'REBOOT') meta[META.restart] = true;
        if (flag.name === 'PURGE_CONFIRMED_LOGS') {
          for (const c of CHANNELS) for (const r of await s.rows(c, 'stored')) if (!changed.has(r.key!)) deleteRows.push(r.key!);
        }
      }
    }
    if (pkg.clock) meta[META.clockOffset] = this.offsetMs - pkg.clock.skewSeconds * 1000;
    const refused = [...this.current.refused, ...refusals].slice(-MAX_REFUSALS_KEPT);
    meta[META.refused] = refused;
    await s.commit({ rows: [...changed.values()], deleteRows, meta });

    const errors: PackageErrorReport[] = pkg.errors
      .filter((e) => e.file === undefined || e.file === file)
      .map((e) => ({ channel, sessionId, ...(e.file !== undefined ? { file: e.file } : {}), code: e.code, ...(e.detail ? { detail: e.detail } : {}), retry: e.retry, at: now }));
    this.report?.errors.push(...errors);
    this.announce(refusals);
    for (const error of errors) this.emit({ type: 'package-error', error });

    if (meta[META.roster]) this.rosterCache = meta[META.roster] as RosterEntry[];
    if (meta[META.rosterVersion] !== undefined) this.rosterVersion = meta[META.rosterVersion] as number;
    if (meta[META.settings]) this.settingsCache = meta[META.settings] as Record<string, string>;
    if (meta[META.clockOffset] !== undefined) this.offsetMs = meta[META.clockOffset] as number;
    this.setState({
      refused, waiting: await s.countWaiting(), clockSkewMs: -this.offsetMs,
      ...(meta[META.lastSentAt] ? { lastSentAt: meta[META.lastSentAt] as string } : {}),
      ...(meta[META.restart] ? { restartRequested: true } : {}),
    });
  }

  /** The clock offset from a manifest (server time minus device time at mid-request). */
  private clockFrom(manifest: Manifest, sentAt: number, receivedAt: number): Record<string, unknown> {
    const offset = clockOffsetMs(manifest.server_time, sentAt, receivedAt);
    if (offset === null) return {};
    // Keep the known offset when the new reading is within the round trip's uncertainty.
    if (Math.abs(offset - this.offsetMs) > Math.max(1000, receivedAt - sentAt)) this.offsetMs = offset;
    this.setState({ clockSkewMs: -this.offsetMs });
    return { [META.clockOffset]: this.offsetMs };
  }

  /** One call, repeated while the answer is retry-later (network, 5xx, Retry-After within reason). */
  private async retrying<T>(channel: Channel, call: (p: V4Protocol) => Promise<T>): Promise<T> {
    const maxWait = this.opts.maxRetryAfterSeconds ?? 60;
    for (let attempt = 1; ; attempt++) {
      const protocol = await this.step();
      try {
        const value = await call(protocol);
        if (!this.current.online) this.setState({ online: true });
        return value;
      } catch (err) {
        if (!(err instanceof SyncError)) throw err;
        const known = err.channel ? err : new SyncError(err.code, err.message, err.httpStatus, err.problem, err.retryAfterSeconds, channel);
        const transient = ['network_error', 'internal_error', 'server_busy', 'service_unavailable', 'rate_limited', 'invalid_token', LOCAL_CODES.badPackage, LOCAL_CODES.badAnswer].includes(err.code)
          || (classify(err.code, err.httpStatus) === 'retry-later' && err.httpStatus >= 500);
        if (!transient || attempt >= 4) throw known;
        const waitS = err.retryAfterSeconds ?? Math.min(8, 0.5 * 2 ** (attempt - 1));
        if (waitS > maxWait) throw known;
        this.setState({ lastError: this.errorInfo(known), ...(err.code === LOCAL_CODES.network ? { online: false } : {}) });
        await this.pause(waitS * 1000);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms * (this.opts.waitScale ?? 1)));
  }

  /** Stops syncing (a sync in progress stops at its next step) and closes the storage. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => undefined);
    this.listeners.clear();
    await this.opts.storage.close();
  }
}

function upsert(roster: readonly RosterEntry[], delta: readonly RosterEntry[]): RosterEntry[] {
  const byId = new Map(roster.map((r) => [r.userId, r]));
  for (const r of delta) byId.set(r.userId, r);
  return [...byId.values()].sort((a, b) => a.userId - b.userId);
}

function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

interface LockManagerLike {
  request<T>(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

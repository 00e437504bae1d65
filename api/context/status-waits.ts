// Devices waiting on `GET /v4/:channel/status?wait=N` (docs/PROTOCOL-EXTENSIONS.md): instead of
// asking every 250 ms while their batch is imported, a device asks once and the answer leaves
// when the status changes. A trigger on sync_states NOTIFYs `sync_status` at the commit of every
// change that leaves status 1 (migration 20261204_200000), with the new status in the payload;
// each api process LISTENs on one connection of its own (so API_PROCESSES > 1 works: every
// process hears every change) and hands the payload to the requests waiting on that device
// and channel. A waiting request holds no database connection, only a timer and a closure.
//
// Nothing is lost in the gaps: a request registers before it reads the status, so a change
// committed between the read and the wait still wakes it; when the listening connection is
// lost and comes back, every waiter is woken to read the status again (a notification sent
// meanwhile is gone); and a wait that times out reads the status again before answering.
import { listenForJobs, type JobListener } from '../../db/job-notifications.js';
import type { Logger } from '../../shared/logger.js';

export const STATUS_NOTIFY_CHANNEL = 'sync_status';

/** The longest wait granted; a longer `wait` is served as this (a bound for the proxies between). */
export const MAX_STATUS_WAIT_SECONDS = 30;

export interface PushedStatus {
  status: 0 | 1 | 2;
  session_id: string | null;
  changed_at: Date;
}

/** Why a wait ended: the status the change carried, or null (timeout, reconnection, stop, client gone): read it again. */
export type WaitResult = PushedStatus | null;

export interface StatusWait {
  /** Resolves at the first change of this device's channel, or with null after `ms`. */
  until(ms: number): Promise<WaitResult>;
  /** Stops waiting (the request is over); resolves a pending `until` with null. */
  cancel(): void;
}

interface Waiter {
  resolve(result: WaitResult): void;
}

export class StatusWaits {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private listener: JobListener | null = null;
  private stopped = false;

  constructor(private readonly logger: Logger) {}

  start(databaseUrl: string): Promise<void> {
    this.listener = listenForJobs(databaseUrl, { logger: this.logger, applicationName: 'attendance-api-status', channel: STATUS_NOTIFY_CHANNEL },
      (payload) => this.notified(payload));
    return this.listener.ready;
  }

  /** Wakes every waiting request (they answer the status they read again), then stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    await this.listener?.stop();
  }

  /** Requests waiting now, for metrics and tests. */
  get size(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }

  /** Register first, read the status second: a change committed in between is not missed. */
  register(deviceId: string, channel: string): StatusWait {
    const key = `${deviceId}:${channel}`;
    let result: WaitResult | undefined;
    let resolveUntil: ((r: WaitResult) => void) | null = null;
    let timer: NodeJS.Timeout | null = null;
    const waiter: Waiter = {
      resolve: (r) => {
        if (result !== undefined) return;
        result = r;
        remove();
        if (timer) clearTimeout(timer);
        resolveUntil?.(r);
      },
    };
    const remove = () => {
      const set = this.waiting.get(key);
      if (!set) return;
      set.delete(waiter);
      if (set.size === 0) this.waiting.delete(key);
    };
    if (this.stopped) result = null;
    else {
      let set = this.waiting.get(key);
      if (!set) this.waiting.set(key, (set = new Set()));
      set.add(waiter);
    }
    return {
      until: (ms) => {
        if (result !== undefined) return Promise.resolve(result);
        return new Promise<WaitResult>((resolve) => {
          resolveUntil = resolve;
          timer = setTimeout(() => waiter.resolve(null), ms);
        });
      },
      cancel: () => waiter.resolve(null),
    };
  }

  private notified(payload: string | null): void {
    if (payload === null) {
      // (Re)connected: whatever changed while the connection was down was not heard.
      this.wakeAll();
      return;
    }
    let change: { device_id: string; channel: string; status: 0 | 1 | 2; session_id: string | null; changed_at: string };
    try {
      change = JSON.parse(payload);
    } catch {
      this.logger.warn({ payload: payload.slice(0, 200) }, 'sync_status: unreadable notification');
      return;
    }
    const set = this.waiting.get(`${change.device_id}:${change.channel}`);
    if (!set) return;
    const pushed: PushedStatus = { status: change.status, session_id: change.session_id, changed_at: new Date(change.changed_at) };
    for (const w of [...set]) w.resolve(pushed);
  }

  private wakeAll(): void {
    for (const set of [...this.waiting.values()]) for (const w of [...set]) w.resolve(null);
  }
}

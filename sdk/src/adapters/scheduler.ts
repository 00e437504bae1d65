// When to sync: at once, when the browser says it is back online, every `everySeconds` (or the
// server's `sync_interval_seconds` setting), and when the app calls `syncNow()`. Where a service
// worker with Background Sync exists, a one-off sync is registered as a hint: the browser may wake
// the service worker, which can post a message to the page to sync (the SDK's work stays in the page).
import type { SyncClient, SyncReport } from '../core/client.js';

export interface SchedulerOptions {
  /** Timer period in seconds (the server's `sync_interval_seconds` setting wins when set). Default 300. */
  everySeconds?: number;
  /** Background Sync tag registered as a hint. Default `attendance-sync`. */
  backgroundSyncTag?: string;
  /** Sync when the scheduler starts. Default true. */
  onStart?: boolean;
  /** Where `online`/`offline` events come from. Default: the global scope (a page's window, a worker's self). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

/** Calling it stops the scheduler (as `stop()` does); `syncNow()` syncs at once and re-arms the timer. */
export interface Scheduler {
  (): void;
  stop(): void;
  syncNow(): Promise<SyncReport>;
}

export function startScheduler(client: SyncClient, opts: SchedulerOptions = {}): Scheduler {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const global = globalThis as Partial<Pick<EventTarget, 'addEventListener' | 'removeEventListener'>>;
  const target = opts.events ?? (typeof global.addEventListener === 'function' ? (global as EventTarget) : null);

  const period = (): number => {
    const fromServer = Number(client.settings().sync_interval_seconds);
    const s = Number.isFinite(fromServer) && fromServer >= 10 ? fromServer : opts.everySeconds ?? 300;
    return s * 1000;
  };
  const arm = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void syncNow(), period());
  };
  const syncNow = async (): Promise<SyncReport> => {
    try {
      return await client.sync();
    } finally {
      arm();
    }
  };
  const online = () => {
    client.setOnline(true);
    void syncNow();
  };
  const offline = () => client.setOnline(false);
  target?.addEventListener('online', online);
  target?.addEventListener('offline', offline);
  void registerBackgroundSync(opts.backgroundSyncTag ?? 'attendance-sync');
  if (opts.onStart ?? true) void syncNow();
  else arm();
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    target?.removeEventListener('online', online);
    target?.removeEventListener('offline', offline);
  };
  return Object.assign(stop, { stop, syncNow });
}

/** Background Sync where the browser has it (Chromium); elsewhere nothing: the timer and `online` do the work. */
async function registerBackgroundSync(tag: string): Promise<void> {
  try {
    const sw = (globalThis as { navigator?: { serviceWorker?: { ready: Promise<{ sync?: { register(tag: string): Promise<void> } }> } } }).navigator?.serviceWorker;
    if (!sw) return;
    const reg = await sw.ready;
    await reg.sync?.register(tag);
  } catch {
    // a hint only
  }
}

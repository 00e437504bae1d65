// The one place the app meets the device SDK (sdk/, docs in sdk/README.md): the client over
// IndexedDB, its scheduler, and the shapes the views read. Records are queued durably by the
// SDK before the views say "saved"; sending is the SDK's (on open, on reconnect, every minute,
// after each action, and "Send now").
import { SyncClient, parseEnrolUri, type ClientState, type Refusal, type RosterEntry } from '../../sdk/src/index.js';
import { indexedDbStorage } from '../../sdk/src/adapters/indexeddb.js';
import { startScheduler, type Scheduler } from '../../sdk/src/adapters/scheduler.js';

export { parseEnrolUri, type ClientState, type Refusal, type RosterEntry, type SyncClient };

export const APP_VERSION = 'app-1.0.0';
const DATABASE = 'attendance-app';

export async function openClient(): Promise<SyncClient> {
  return SyncClient.open({
    storage: indexedDbStorage(DATABASE),
    device: { firmware: APP_VERSION, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
  });
}

export function schedule(client: SyncClient): Scheduler {
  return startScheduler(client, { everySeconds: 60 });
}

let sending: Promise<void> | null = null;

/**
 * Sends now if the browser thinks it is online (or `force`: "Send now"). A sync already under way
 * (the scheduler's) is joined rather than started twice, and may have frozen its batch before the
 * row just queued: while rows still wait after a sync that met no error, another runs (at most
 * three). A failure is in the client's state, shown by the status bar; the scheduler retries.
 */
export function sendSoon(client: SyncClient, force = false): void {
  if ((!force && !navigator.onLine) || sending) return;
  sending = (async () => {
    for (let round = 0; round < 3; round++) {
      await client.sync().catch(() => { /* in client.state.lastError */ });
      if (client.state.waiting === 0 || client.state.lastError) break;
    }
  })().finally(() => { sending = null; });
}

// The scheduler: a sync at once, on each `online` event, on its timer, on syncNow(); nothing after stop().
import { expect, test } from '@jest/globals';
import { startScheduler } from '../../sdk/src/adapters/scheduler.js';
import type { SyncClient, SyncReport } from '../../sdk/src/index.js';

function fakeClient(settings: Record<string, string> = {}) {
  const calls: string[] = [];
  const client = {
    online: true,
    settings: () => settings,
    sync: async (): Promise<SyncReport> => {
      calls.push('sync');
      return { ok: true, channels: {}, flags: [], refusals: [], errors: [] };
    },
    setOnline(v: boolean) {
      calls.push(v ? 'online' : 'offline');
    },
  };
  return { client: client as unknown as SyncClient, calls };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('syncs on start, on the timer, when back online and on syncNow, and stops when told', async () => {
  const { client, calls } = fakeClient();
  const events = new EventTarget();
  const stop = startScheduler(client, { everySeconds: 0.2, events });
  await sleep(50);
  expect(calls).toEqual(['sync']);
  await sleep(250);
  expect(calls).toEqual(['sync', 'sync']);
  events.dispatchEvent(new Event('offline'));
  events.dispatchEvent(new Event('online'));
  await sleep(10);
  expect(calls).toEqual(['sync', 'sync', 'offline', 'online', 'sync']);
  await stop.syncNow();
  expect(calls.filter((c) => c === 'sync')).toHaveLength(4);
  stop();
  events.dispatchEvent(new Event('online'));
  await sleep(300);
  expect(calls.filter((c) => c === 'sync')).toHaveLength(4);
});

test('the server\'s sync_interval_seconds sets the period', async () => {
  const { client, calls } = fakeClient({ sync_interval_seconds: '3600' });
  const scheduler = startScheduler(client, { everySeconds: 0.05, events: new EventTarget() });
  await sleep(200);
  scheduler.stop();
  expect(calls).toEqual(['sync']);
});

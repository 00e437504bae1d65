// The app's service worker (scope /app/): every file of the build precached by workbox (the
// list is injected by app/build.ts in place of self.__WB_MANIFEST), so that the app opens and
// works with no network; navigations inside the scope answer the precached index.html. The
// sync itself runs in the page (the device SDK); nothing here touches the records.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

interface WorkerScope {
  __WB_MANIFEST: PrecacheEntry[];
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void>; matchAll(opts: { type: 'window' }): Promise<Array<{ postMessage(message: unknown): void }>> };
  addEventListener(type: 'install' | 'activate' | 'sync', listener: (event: { tag?: string; waitUntil(p: Promise<unknown>): void }) => void): void;
}
declare const self: WorkerScope;
const SYNC_TAG = 'attendance-sync';

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));
// A new build takes over at once: its files are all precached before it activates.
self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
// Background Sync, where the browser has it: the SDK's scheduler registers the tag as a hint;
// when the browser fires it (the network is back), open pages are asked to send.
self.addEventListener('sync', (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(self.clients.matchAll({ type: 'window' }).then((pages) => { for (const page of pages) page.postMessage({ type: SYNC_TAG }); }));
});

// The reference app for schools (issue 30; README "The app for schools"): enrol the device from
// the dashboard's QR code, then take a roll call (teacher) or run a check-in kiosk (tablet),
// online or not. Served by the api at /app/; its service worker (sw.ts) precaches every file,
// its records wait in IndexedDB (the device SDK's outbox) until sent.
import './styles.css';
import { openClient, schedule, type SyncClient } from './device.js';
import { fill, h } from './dom.js';
import { isIos, isStandalone, showEnrol } from './enrol.js';
import { initLanguage, LANGUAGES, m, rememberLanguage } from './i18n.js';
import { showKiosk } from './kiosk.js';
import { showRollCall } from './rollcall.js';
import { mountStatus } from './status.js';

type Mode = 'rollcall' | 'kiosk';
const MODE = 'attendance-app.mode';
const DEVICE = 'attendance-app.device';

const root = document.getElementById('app')!;
const statusBar = document.getElementById('status')!;
let redrawStatus = () => {};

function storedMode(): Mode {
  try { return localStorage.getItem(MODE) === 'kiosk' ? 'kiosk' : 'rollcall'; } catch { return 'rollcall'; }
}

function languagePicker(redraw: () => void): HTMLElement {
  const picker = h('select', { id: 'language', 'aria-label': m.language },
    LANGUAGES.map((l) => h('option', { value: l.code, selected: l.code === m.code, lang: l.code }, l.name)));
  picker.addEventListener('change', () => { rememberLanguage(picker.value); redraw(); });
  return picker;
}

function showHome(client: SyncClient, notes: string[] = []): void {
  const mode = storedMode();
  const view = h('section', { id: 'view' });
  const tab = (id: Mode, label: string) => h('button', {
    type: 'button', role: 'tab', 'aria-selected': String(mode === id), 'data-mode': id,
    onclick: () => { try { localStorage.setItem(MODE, id); } catch { /* this visit only */ } showHome(client); },
  }, label);
  fill(root,
    h('header', { class: 'top' }, h('span', { class: 'brand' }, m.appName),
      h('nav', { role: 'tablist', 'aria-label': m.modes }, tab('rollcall', m.rollCall), tab('kiosk', m.kiosk)),
      languagePicker(() => { redrawStatus(); showHome(client); })),
    ...notes.map((n) => h('p', { class: 'note' }, n)),
    isIos() && !isStandalone() ? h('p', { class: 'note ios' }, m.iosHomeScreen) : null,
    view);
  let device = '';
  try { device = localStorage.getItem(DEVICE) ?? ''; } catch { /* one roll call per day and browser then */ }
  const draw = () => (mode === 'kiosk' ? showKiosk(view, client) : showRollCall(view, client, device));
  draw();
  // The roster comes with the first package after enrolment: draw again when it arrives.
  if (client.roster().length === 0) {
    const unsubscribe = client.subscribe(() => {
      if (client.roster().length === 0) return;
      unsubscribe();
      if (view.isConnected) draw();
    });
  }
}

async function start(): Promise<void> {
  initLanguage();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('./sw.js', { scope: './' }).catch(() => { /* the app still works online */ });
  }
  const client = await openClient();
  let stopStatus = mountStatus(statusBar, client);
  redrawStatus = () => { stopStatus(); stopStatus = mountStatus(statusBar, client); };
  // A REBOOT flag (docs/protocol/v4.md §6): the page restarts once the package is acknowledged.
  client.subscribe((state) => {
    if (state.restartRequested) void client.clearRestartRequest().then(() => location.reload());
  });
  // The service worker's Background Sync event (sw.ts): send now.
  navigator.serviceWorker?.addEventListener('message', (event: MessageEvent<{ type?: string }>) => {
    if (event.data?.type === 'attendance-sync' && client.enrolled) client.sync().catch(() => {});
  });
  if (client.enrolled) {
    schedule(client);
    showHome(client);
    return;
  }
  const enrolView = () => {
    fill(root, h('header', { class: 'top' }, h('span', { class: 'brand' }, m.appName), languagePicker(() => { redrawStatus(); enrolView(); })));
    const body = h('section');
    root.append(body);
    showEnrol(body, client, (deviceId, notes) => {
      try { localStorage.setItem(DEVICE, deviceId); } catch { /* one roll call per day and browser then */ }
      schedule(client);
      showHome(client, notes);
    });
  };
  enrolView();
}

start().catch((err: unknown) => {
  fill(root, h('p', { class: 'error' }, String((err as Error).message ?? err)));
});

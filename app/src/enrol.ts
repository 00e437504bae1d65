// Enrolment: the QR code the dashboard shows for a device (Devices: register, or rotate the
// secret), scanned with the camera, or its attendance-sync://enrol link pasted (docs/DEVICES.md).
// A link in the page's address after #enrol= (the one `npm start` prints for the demo's
// "Teacher phone") fills the field. Once enrolled, the app asks the browser to keep its storage
// (records wait there until sent) and tells iOS users to add it to the Home Screen.
import { parseEnrolUri, type SyncClient } from './device.js';
import { fill, h } from './dom.js';
import { m } from './i18n.js';
import { scanButton } from './scanner.js';

/** The enrolment link carried in the address (`/app/#enrol=<link, percent-encoded>`), removed from it once read. */
function linkFromAddress(): string {
  const match = /^#enrol=(.+)$/.exec(location.hash);
  if (!match) return '';
  history.replaceState(null, '', location.pathname + location.search);
  try { return decodeURIComponent(match[1]); } catch { return ''; }
}

export function isIos(): boolean {
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

export function isStandalone(): boolean {
  return matchMedia('(display-mode: standalone)').matches || (navigator as Navigator & { standalone?: boolean }).standalone === true;
}

/** Asks the browser to keep the app's storage; answers whether it will. */
export async function persistStorage(): Promise<boolean> {
  try {
    if (await navigator.storage?.persisted?.()) return true;
    return (await navigator.storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}

export function showEnrol(root: HTMLElement, client: SyncClient, enrolled: (deviceId: string, notes: string[]) => void): void {
  const link = h('textarea', { id: 'enrol-link', name: 'enrol-link', rows: 3, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'enrol-link-hint' });
  link.value = linkFromAddress();
  const message = h('p', { class: 'message', role: 'alert' });
  const submit = h('button', { type: 'submit' }, m.enrol);
  const scanArea = h('div');
  const scan = scanButton(m.scanQr, scanArea, (text) => {
    if (text) { link.value = text; form.requestSubmit(); } else if (text === null && !scanArea.hasChildNodes()) message.textContent = '';
  });
  const form = h('form', { class: 'card' },
    h('label', { for: 'enrol-link' }, m.enrolLink), link, h('small', { id: 'enrol-link-hint' }, m.enrolLinkHint), submit, message);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    scan.stop();
    const parsed = parseEnrolUri(link.value.trim());
    if (!parsed) { message.textContent = m.notAnEnrolLink; return; }
    submit.disabled = true;
    submit.textContent = m.enrolling;
    message.textContent = '';
    try {
      await client.enrol(parsed);
    } catch (err) {
      message.textContent = m.enrolFailed((err as Error).message);
      submit.disabled = false;
      submit.textContent = m.enrol;
      return;
    }
    const notes = [m.enrolledAs(parsed.deviceId), (await persistStorage()) ? m.storagePersisted : m.storageNotPersisted];
    enrolled(parsed.deviceId, notes);
  });
  fill(root,
    h('h1', {}, m.enrolTitle),
    h('p', {}, m.enrolIntro),
    scan.button, scanArea, form,
    isIos() && !isStandalone() ? h('p', { class: 'note ios' }, m.iosHomeScreen) : null);
}

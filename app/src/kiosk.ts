// Kiosk mode, on a tablet at the door: a pupil types a badge number (or shows a QR code holding
// it to the camera) and taps Arriving or Leaving. The badge is looked up in the roster the
// server last sent (the SDK keeps it); the check-in is queued on `synchro` as a terminal's row
// (client.checkIn), then sent when the network allows.
import { type RosterEntry, sendSoon, type SyncClient } from './device.js';
import { fill, h } from './dom.js';
import { m, time } from './i18n.js';
import { scanButton } from './scanner.js';

const normalise = (badge: string) => badge.trim().toUpperCase();

export function showKiosk(root: HTMLElement, client: SyncClient): void {
  const byBadge = (badge: string): RosterEntry | undefined =>
    client.roster().find((p) => p.badge && normalise(p.badge) === normalise(badge));
  const badge = h('input', { id: 'badge', name: 'badge', autocomplete: 'off', inputmode: 'text', autocapitalize: 'characters', required: true });
  const message = h('p', { class: 'message big', role: 'status', 'aria-live': 'polite' });
  const recent = h('ul', { class: 'recent' });
  const scanArea = h('div');
  const scan = scanButton(m.scanBadge, scanArea, (text) => {
    if (text) { badge.value = text; badge.focus(); }
  });
  const form = h('form', { class: 'card kiosk' },
    h('label', { for: 'badge' }, m.badge), badge,
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', value: 'checkin', class: 'primary arrive' }, m.arriving),
      h('button', { type: 'submit', value: 'checkout', class: 'primary leave' }, m.leaving)),
    scan.button,
    scanArea, message);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const type = ((e as SubmitEvent).submitter as HTMLButtonElement | null)?.value === 'checkout' ? 'checkout' : 'checkin';
    const typed = badge.value;
    const pupil = byBadge(typed);
    message.className = 'message big';
    if (!pupil) { message.textContent = m.unknownBadge(badge.value.trim()); message.classList.add('error'); return; }
    const at = client.now(); // what the row says: the device clock corrected by the server's
    try {
      await client.checkIn({ userId: pupil.userId, type });
    } catch (err) {
      message.textContent = (err as Error).message;
      message.classList.add('error');
      return;
    }
    const text = type === 'checkin' ? m.checkedIn(pupil.name, time(at)) : m.checkedOut(pupil.name, time(at));
    message.textContent = text;
    message.classList.add('ok');
    recent.prepend(h('li', { 'data-type': type }, text));
    while (recent.children.length > 5) recent.lastElementChild?.remove();
    // The next pupil may have typed already: only the badge just used is cleared.
    if (badge.value === typed) badge.value = '';
    badge.focus();
    sendSoon(client);
  });
  fill(root, h('h1', {}, m.kioskTitle), h('p', { class: 'hint' }, m.kioskHint), form, h('h2', {}, m.recent), recent);
  badge.focus();
}

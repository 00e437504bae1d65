// The signed-in page: header (school, account, sign out), keyboard-usable tabs (arrow keys,
// Home, End), one panel for the current view, a live region for messages. The current
// view refreshes every POLL_MS while the tab is visible; the URL hash remembers the tab.
import { ApiError, SessionExpired, type Staff } from './api.js';
import { fill, h, select } from './dom.js';
import { startPolling } from './poll.js';
import type { School } from './types.js';
import type { View, ViewContext, ViewInstance } from './view.js';
import { VIEWS } from './views/index.js';

const POLL_MS = 20_000;

export function showShell(root: HTMLElement, staff: Staff, schools: School[], onLogout: () => void): () => void {
  const isBackoffice = staff.role === 'backoffice';
  const views = VIEWS.filter((v) => isBackoffice || !v.backofficeOnly);
  const remembered = Number(sessionStorage.getItem('attendance.school'));
  let school = schools.find((s) => s.id === remembered) ?? schools[0];

  // Confirmations stay until the next one or a tab change; "updated at" is quiet (it changes every refresh).
  const notice = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const status = h('p', { class: 'status' });
  const alert = h('div', { class: 'alert', role: 'alert', hidden: true });
  const panel = h('section', { class: 'panel', role: 'tabpanel', tabindex: 0 });
  const tabs = views.map((v) => h('button', {
    type: 'button', role: 'tab', id: `tab-${v.id}`, 'aria-controls': 'panel', 'aria-selected': 'false', tabindex: -1,
    onclick: () => activate(v),
  }, v.title));
  panel.id = 'panel';

  const picker = isBackoffice
    ? select(schools.map((s) => [String(s.id), s.name]), String(school.id))
    : null;
  if (picker) {
    picker.id = 'school-picker';
    picker.addEventListener('change', () => {
      school = schools.find((s) => String(s.id) === picker.value) ?? school;
      sessionStorage.setItem('attendance.school', String(school.id));
      activate(current!);
    });
  }
  const schoolLabel = picker
    ? h('div', { class: 'school-pick' }, h('label', { for: 'school-picker' }, 'School'), picker)
    : h('p', { class: 'school-name' }, school.name);

  const tablist = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Dashboard views', onkeydown: onTabKey as EventListener }, tabs);
  fill(root,
    h('header', { class: 'top' },
      h('h1', {}, 'Attendance'),
      schoolLabel,
      h('div', { class: 'account' },
        h('span', { class: 'who' }, `${staff.email} · ${isBackoffice ? 'backoffice' : 'school admin'}`),
        h('button', { type: 'button', class: 'secondary', onclick: () => onLogout() }, 'Sign out'))),
    tablist,
    h('main', {}, alert, notice, panel, status));

  let current: View | null = null;
  let instance: ViewInstance | null = null;
  let stopPolling: (() => void) | null = null;
  let lastError = false;

  function notify(message: string, tone: 'ok' | 'error' = 'ok'): void {
    if (tone === 'error') {
      alert.hidden = false;
      alert.textContent = message;
    } else {
      alert.hidden = true;
      notice.textContent = message;
    }
  }

  async function refresh(): Promise<void> {
    const running = instance;
    if (!running) return;
    try {
      await running.refresh();
      if (running !== instance) return;
      if (lastError) alert.hidden = true;
      lastError = false;
      status.textContent = `Updated at ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${POLL_MS / 1000} s`;
      panel.setAttribute('aria-busy', 'false');
      if (!panel.dataset.ready) performance.mark(`ready:${current?.id}`); // for load-time measurements
      panel.dataset.ready = 'true';
    } catch (err) {
      if (err instanceof SessionExpired) return; // the sign-in form takes over
      lastError = true;
      notify(err instanceof ApiError ? err.message : `Something went wrong: ${(err as Error).message}`, 'error');
    }
  }

  function activate(view: View, focus = false): void {
    stopPolling?.();
    instance?.destroy?.();
    current = view;
    for (const [i, tab] of tabs.entries()) {
      const selected = views[i] === view;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    panel.setAttribute('aria-labelledby', `tab-${view.id}`);
    panel.setAttribute('aria-busy', 'true');
    delete panel.dataset.ready;
    panel.replaceChildren();
    alert.hidden = true;
    notice.textContent = '';
    if (location.hash !== `#${view.id}`) history.replaceState(null, '', `#${view.id}`);
    const ctx: ViewContext = { staff, school, schools, isBackoffice, notify, refreshSoon: () => void refresh() };
    instance = view.mount(panel, ctx);
    void refresh();
    stopPolling = startPolling(refresh, POLL_MS);
  }

  function onTabKey(e: KeyboardEvent): void {
    const at = views.indexOf(current!);
    const to = e.key === 'ArrowRight' ? (at + 1) % views.length
      : e.key === 'ArrowLeft' ? (at - 1 + views.length) % views.length
        : e.key === 'Home' ? 0 : e.key === 'End' ? views.length - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    activate(views[to], true);
  }

  const fromHash = views.find((v) => `#${v.id}` === location.hash);
  activate(fromHash ?? views[0]);
  return () => {
    stopPolling?.();
    instance?.destroy?.();
  };
}

// The signed-in page: header (school, language, account, sign out), keyboard-usable tabs (arrow
// keys, Home, End) that wrap on a narrow screen, one panel for the current view, a live region
// for messages, and a header that only paper shows (school, view, period). The current view
// refreshes every POLL_MS while the tab is visible.
//
// The URL hash holds the view and its choices: #figures?period=week&from=…&to=…&school=2. The
// choices (period, range, pupil, school) carry over from tab to tab and survive a reload, and
// a link such as a pupil's name (#pupils?user=12) is a plain <a href> the back button undoes.
import { ApiError, SessionExpired, type Staff } from '../api.js';
import { fill, h, select } from '../dom.js';
import { dateTime, time } from '../format.js';
import { m } from '../i18n.js';
import { languagePicker } from '../language-picker.js';
import { startPolling } from '../poll.js';
import type { School } from '../types.js';
import type { View, ViewContext, ViewInstance } from '../view.js';
import { VIEWS } from '../views/index.js';

const POLL_MS = 20_000;

function parseHash(): { view: string; params: URLSearchParams } {
  const raw = location.hash.slice(1);
  const at = raw.indexOf('?');
  return { view: at < 0 ? raw : raw.slice(0, at), params: new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)) };
}

function hashOf(viewId: string, params: URLSearchParams): string {
  const query = params.toString();
  return `#${viewId}${query ? `?${query}` : ''}`;
}

export function showShell(root: HTMLElement, staff: Staff, schools: School[], onLogout: () => void, onLanguage: (code: string) => void): () => void {
  const isBackoffice = staff.role === 'backoffice';
  const views = VIEWS.filter((v) => isBackoffice || !v.backofficeOnly);
  let params = parseHash().params;
  const remembered = Number(params.get('school') ?? sessionStorage.getItem('attendance.school'));
  let school = schools.find((s) => s.id === remembered) ?? schools[0];

  // Confirmations stay until the next one or a tab change; "updated at" is quiet (it changes every refresh).
  const notice = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const status = h('p', { class: 'status' });
  const zoneNote = h('p', { class: 'zone muted' });
  const alert = h('div', { class: 'alert', role: 'alert', hidden: true });
  const panel = h('section', { class: 'panel', role: 'tabpanel', tabindex: 0 });
  const tabs = views.map((v) => h('button', {
    type: 'button', role: 'tab', id: `tab-${v.id}`, 'aria-controls': 'panel', 'aria-selected': 'false', tabindex: -1,
    onclick: () => activate(v),
  }, m.tabs[v.id]));
  panel.id = 'panel';
  const printView = h('p', { class: 'print-title' });
  const printPeriod = h('p', { class: 'print-period' });
  const printedOn = h('p', { class: 'print-date' });

  const picker = isBackoffice
    ? select(schools.map((s) => [String(s.id), s.name]), String(school.id))
    : null;
  if (picker) {
    picker.id = 'school-picker';
    picker.addEventListener('change', () => {
      school = schools.find((s) => String(s.id) === picker.value) ?? school;
      sessionStorage.setItem('attendance.school', String(school.id));
      params.set('school', String(school.id));
      params.delete('user'); // a pupil belongs to the school left behind
      activate(current!);
    });
  }
  const schoolLabel = picker
    ? h('div', { class: 'school-pick' }, h('label', { for: 'school-picker' }, m.school), picker)
    : h('p', { class: 'school-name' }, school.name);

  const tablist = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': m.viewsLabel, onkeydown: onTabKey as EventListener }, tabs);
  fill(root,
    h('header', { class: 'top' },
      h('h1', {}, m.appName),
      schoolLabel,
      h('div', { class: 'account' },
        languagePicker(onLanguage),
        h('span', { class: 'who' }, m.who(staff.email, isBackoffice)),
        h('button', { type: 'button', class: 'secondary', onclick: () => onLogout() }, m.signOut))),
    tablist,
    h('main', {}, h('div', { class: 'print-header' }, printView, printPeriod, printedOn), alert, notice, zoneNote, panel, status));

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

  const zone = () => (current?.zone === 'reader' ? Intl.DateTimeFormat().resolvedOptions().timeZone : school.timezone);

  async function refresh(): Promise<void> {
    const running = instance;
    if (!running) return;
    try {
      await running.refresh();
      if (running !== instance) return;
      if (lastError) alert.hidden = true;
      lastError = false;
      const now = new Date().toISOString();
      status.textContent = m.updatedAt(time(now, zone()), POLL_MS / 1000);
      printedOn.textContent = m.printedOn(dateTime(now, zone()));
      panel.setAttribute('aria-busy', 'false');
      if (!panel.dataset.ready) performance.mark(`ready:${current?.id}`); // for load-time measurements
      panel.dataset.ready = 'true';
    } catch (err) {
      if (err instanceof SessionExpired) return; // the sign-in form takes over
      lastError = true;
      notify(err instanceof ApiError ? err.message : m.somethingWrong((err as Error).message), 'error');
    }
  }

  function writeHash(push = false): void {
    const next = hashOf(current!.id, params);
    if (location.hash === next) return;
    if (push) history.pushState(null, '', next);
    else history.replaceState(null, '', next);
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
    zoneNote.textContent = view.zone === 'reader' ? m.yourTime(zone()) : m.schoolTime(zone());
    printView.textContent = m.printedHeader(school.name, m.tabs[view.id]);
    printPeriod.textContent = '';
    if (isBackoffice) params.set('school', String(school.id));
    writeHash();
    const ctx: ViewContext = {
      staff, school, schools, isBackoffice, notify, refreshSoon: () => void refresh(),
      params: new URLSearchParams(params),
      setParams(patch) {
        if (current !== view) return;
        for (const [key, value] of Object.entries(patch)) {
          if (value === null || value === '') params.delete(key);
          else params.set(key, value);
        }
        writeHash();
      },
      href(viewId, patch) {
        const next = new URLSearchParams(params);
        for (const [key, value] of Object.entries(patch)) {
          if (value === null) next.delete(key);
          else next.set(key, value);
        }
        return hashOf(viewId, next);
      },
      setPrintPeriod(text) { printPeriod.textContent = text; },
    };
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

  /** A link followed or the back button: the view and choices of the new hash. */
  function onHashChange(): void {
    const next = parseHash();
    const view = views.find((v) => v.id === next.view) ?? views[0];
    const nextSchool = schools.find((s) => String(s.id) === next.params.get('school'));
    if (nextSchool && nextSchool !== school) {
      school = nextSchool;
      if (picker) picker.value = String(school.id);
    }
    params = next.params;
    activate(view);
    panel.focus();
  }
  window.addEventListener('hashchange', onHashChange);

  const fromHash = views.find((v) => v.id === parseHash().view);
  activate(fromHash ?? views[0]);
  return () => {
    window.removeEventListener('hashchange', onHashChange);
    stopPolling?.();
    instance?.destroy?.();
  };
}

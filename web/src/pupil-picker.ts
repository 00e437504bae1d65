// A search-as-you-type pupil picker (the ARIA 1.2 combobox pattern): typing asks the API for
// the first pupils whose name or badge contains the text (GET /api/users?q=…), the arrow keys
// move through them, Enter or a click picks one, Escape closes the list. Answers to older
// keystrokes are dropped, so a slow answer never replaces a newer one.
import { get } from './api.js';
import { h, uid } from './dom.js';
import { m } from './i18n.js';
import type { Page, User } from './types.js';

const SHOWN = 12;
const DEBOUNCE_MS = 150;

export interface PupilPicker {
  element: HTMLElement;
  input: HTMLInputElement;
  /** Shows the chosen pupil's name in the box (the page was opened with one). */
  show(user: User): void;
}

export function pupilPicker(schoolId: number, onPick: (user: User) => void): PupilPicker {
  const listId = uid('pupils');
  const helpId = uid('pupil-help');
  const input = h('input', {
    type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
    'aria-controls': listId, 'aria-describedby': helpId, placeholder: m.nameOrBadge,
  });
  input.id = uid('pupil');
  const listbox = h('ul', { id: listId, role: 'listbox', class: 'combo-list', 'aria-label': m.pupil, hidden: true });
  const count = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const element = h('div', { class: 'field combo' },
    h('label', { for: input.id }, m.pupil), input, listbox,
    h('p', { id: helpId, class: 'sr-only' }, m.pupilSearchHelp), count);

  let found: User[] = [];
  let active = -1;
  let asked = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function open(isOpen: boolean): void {
    listbox.hidden = !isOpen;
    input.setAttribute('aria-expanded', String(isOpen));
    if (!isOpen) input.removeAttribute('aria-activedescendant');
  }

  function draw(): void {
    listbox.replaceChildren(...found.map((u, i) => {
      const option = h('li', { id: `${listId}-${i}`, role: 'option', 'aria-selected': String(i === active) },
        u.name, ' ', h('span', { class: 'muted' }, u.badge));
      option.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the box
      option.addEventListener('click', () => pick(i));
      return option;
    }));
    if (found.length === 0) listbox.append(h('li', { class: 'muted', role: 'option', 'aria-disabled': 'true', 'aria-selected': 'false' }, m.noPupilFound));
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', `${listId}-${active}`);
      listbox.children[active]?.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function pick(i: number): void {
    const user = found[i];
    if (!user) return;
    input.value = user.name;
    open(false);
    onPick(user);
  }

  async function search(): Promise<void> {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) { found = []; open(false); return; }
    try {
      const page = await get<Page<User>>(`/api/users?school_id=${schoolId}&q=${encodeURIComponent(q)}&limit=${SHOWN}`);
      if (mine !== asked) return;
      found = page.items;
      active = -1;
      draw();
      open(true);
      count.textContent = found.length ? m.pupilsFound(found.length) : m.noPupilFound;
    } catch {
      // The next keystroke asks again; the view's refresh reports a server that is down.
    }
  }

  input.addEventListener('input', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void search(), DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (listbox.hidden) { if (found.length) open(true); else return; }
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      active = found.length ? (active + step + found.length) % found.length : -1;
      draw();
    } else if (e.key === 'Enter' && !listbox.hidden && active >= 0) {
      e.preventDefault();
      pick(active);
    } else if (e.key === 'Escape' && !listbox.hidden) {
      e.preventDefault();
      open(false);
    }
  });
  input.addEventListener('blur', () => open(false));

  return { element, input, show(user) { input.value = user.name; } };
}

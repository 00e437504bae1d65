// A tiny element builder: text always goes in as text (never HTML), so names and values from
// the API cannot inject markup.
import { m } from './i18n.js';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Array<Child | Child[]>): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A unique id, for label/for and aria-describedby pairs. */
export function uid(prefix: string): string {
  return `${prefix}-${++ids}`;
}

/** A labelled form control: the label names it for screen readers and playwright alike. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  control.id ||= uid('f');
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

export function select(options: Array<[value: string, label: string]>, value?: string): HTMLSelectElement {
  const el = h('select', {}, options.map(([v, l]) => h('option', { value: v }, l)));
  if (value !== undefined) el.value = value;
  return el;
}

/** A table with a caption, header cells with scope, and rows of cells. */
export function table(caption: string, headers: string[], rows: Array<Array<Child | Child[]>>, opts: { empty?: string; className?: string } = {}): HTMLElement {
  const body = rows.length > 0
    ? rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, ...(Array.isArray(c) ? c : [c])))))
    : [h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, opts.empty ?? m.nothingToShow))];
  return h('div', { class: `table-wrap ${opts.className ?? ''}` },
    h('table', {}, h('caption', {}, caption), h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, body)));
}

export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'info' = 'info'): HTMLElement {
  return h('span', { class: `badge ${tone}` }, text);
}

/** A calendar day or an instant as the reader sees it, with the machine-readable value beside it. */
export function timeEl(datetime: string, text: string): HTMLTimeElement {
  return h('time', { datetime }, text);
}

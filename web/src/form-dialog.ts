// Small modal dialogs (a <dialog>: focus stays inside, Escape cancels): a form of a few labelled
// fields answered with their values or null, and a notice of what is shown once (a reset link, a
// device secret and its QR code) that stays until closed.
import { field, h } from './dom.js';
import { m } from './i18n.js';

export interface DialogField {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'date';
  value?: string;
  required?: boolean;
}

let dialogs = 0;

export function formDialog(title: string, fields: DialogField[], submitLabel: string): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const id = `form-dialog-${++dialogs}`;
    const inputs = fields.map((f) => h('input', { name: f.name, type: f.type ?? 'text', value: f.value ?? '', required: f.required ?? false, autocomplete: 'off' }));
    const cancel = h('button', { type: 'button', class: 'secondary' }, m.cancel);
    const form = h('form', { method: 'dialog' },
      h('h2', { id }, title),
      fields.map((f, i) => field(f.label, inputs[i])),
      h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'ok' }, submitLabel), cancel));
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': id }, form);
    cancel.addEventListener('click', () => dialog.close(''));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok' ? Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value.trim()])) : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    inputs[0]?.focus();
  });
}

/** A dialog that shows something once; resolves when it is closed. */
export function onceDialog(title: string, body: Array<Node | string>): Promise<void> {
  return new Promise((resolve) => {
    const id = `once-dialog-${++dialogs}`;
    const close = h('button', { type: 'submit', value: 'close' }, m.close);
    const dialog = h('dialog', { class: 'confirm once', 'aria-labelledby': id },
      h('form', { method: 'dialog' }, h('h2', { id }, title), h('div', {}, body), h('div', { class: 'actions' }, close)));
    dialog.addEventListener('close', () => { dialog.remove(); resolve(); });
    document.body.append(dialog);
    dialog.showModal();
    close.focus();
  });
}

/** A read-only text a person copies (a link, a secret), labelled, with a copy button. */
export function copyable(label: string, value: string, name: string): HTMLElement {
  const input = h('input', { type: 'text', readonly: true, value, name, class: 'copy-value' });
  const button = h('button', { type: 'button', class: 'secondary' }, m.copy);
  button.addEventListener('click', () => {
    input.select();
    void navigator.clipboard?.writeText(value).then(() => { button.textContent = m.copied; }, () => undefined);
  });
  return h('div', { class: 'copyable' }, field(label, input), button);
}

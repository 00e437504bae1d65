// "Are you sure?" for actions that cannot be taken back or reach many devices: a modal
// <dialog> (focus stays inside, Escape cancels) saying what will happen, answered yes or no.
import { h } from './dom.js';
import { m } from './i18n.js';

export function confirmAction(title: string, body: string[], confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'submit', value: 'yes' }, confirmLabel);
    const no = h('button', { type: 'submit', value: 'no', class: 'secondary' }, m.cancel);
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, title),
        h('div', { id: 'confirm-body' }, body.map((p) => h('p', {}, p))),
        h('div', { class: 'actions' }, yes, no)));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'yes');
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus(); // the safe answer is the default
  });
}

// Sign-in: email and password to POST /api/auth/login; the token goes to sessionStorage.
import { ApiError, request, session, type Staff } from '../api.js';
import { field, fill, h } from '../dom.js';
import { m } from '../i18n.js';
import { languagePicker } from '../language-picker.js';

export function showLogin(root: HTMLElement, message: string | undefined, onSignedIn: () => Promise<void>, onLanguage: (code: string) => void): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'alert', role: 'alert', hidden: !message }, message ?? '');
  const submit = h('button', { type: 'submit' }, m.signIn);
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, m.appTitle),
    error,
    field(m.email, email),
    field(m.password, password),
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      const answer = await request<{ access_token: string; staff: Staff }>('POST', '/api/auth/login', { email: email.value, password: password.value }, { auth: false });
      session.save(answer.access_token, answer.staff);
      await onSignedIn();
    } catch (err) {
      error.hidden = false;
      error.textContent = err instanceof ApiError && err.status === 401 ? m.wrongCredentials : (err as Error).message;
      submit.disabled = false;
      password.select();
    }
  });
  fill(root, h('main', { class: 'login-page' }, h('div', { class: 'login-box' }, form, languagePicker(onLanguage))));
  email.focus();
}

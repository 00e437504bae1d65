// Sign-in: email and password to POST /api/auth/login; the token goes to sessionStorage.
import { ApiError, request, session, type Staff } from '../api.js';
import { field, fill, h } from '../dom.js';

export function showLogin(root: HTMLElement, message: string | undefined, onSignedIn: () => Promise<void>): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'alert', role: 'alert', hidden: !message }, message ?? '');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Attendance dashboard'),
    error,
    field('Email', email),
    field('Password', password),
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
      error.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong email or password.' : (err as Error).message;
      submit.disabled = false;
      password.select();
    }
  });
  fill(root, h('main', { class: 'login-page' }, form));
  email.focus();
}

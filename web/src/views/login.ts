// Sign-in: email and password to POST /api/auth/login; the token goes to sessionStorage.
// "Forgot your password?" asks the server whether it can e-mail a reset link: if so, it sends
// one; if not, it says whom to ask (a school admin or backoffice issues the link). A reset link
// (#reset?token=…) opens the form that sets a new password and signs in.
import { ApiError, request, session, type Staff } from '../api.js';
import { field, fill, h } from '../dom.js';
import { m } from '../i18n.js';
import { languagePicker } from '../language-picker.js';

type Answer = { access_token: string; staff: Staff };

export function showLogin(root: HTMLElement, message: string | undefined, onSignedIn: () => Promise<void>, onLanguage: (code: string) => void): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'alert', role: 'alert', hidden: !message }, message ?? '');
  const submit = h('button', { type: 'submit' }, m.signIn);
  const forgot = h('button', { type: 'button', class: 'link' }, m.forgotPassword);
  const forgotAnswer = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, m.appTitle),
    error,
    field(m.email, email),
    field(m.password, password),
    submit, forgot, forgotAnswer);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      const answer = await request<Answer>('POST', '/api/auth/login', { email: email.value, password: password.value }, { auth: false });
      session.save(answer.access_token, answer.staff);
      await onSignedIn();
    } catch (err) {
      error.hidden = false;
      error.textContent = err instanceof ApiError && err.status === 401 ? m.wrongCredentials : (err as Error).message;
      submit.disabled = false;
      password.select();
    }
  });
  forgot.addEventListener('click', async () => {
    try {
      const how = await request<{ email_enabled: boolean }>('GET', '/api/auth/password-reset', undefined, { auth: false });
      if (!how.email_enabled) {
        forgotAnswer.textContent = m.forgotAskSomeone;
        return;
      }
      if (!email.reportValidity()) return;
      await request('POST', '/api/auth/password-reset', { email: email.value }, { auth: false });
      forgotAnswer.textContent = m.forgotSent(email.value);
    } catch (err) {
      forgotAnswer.textContent = (err as Error).message;
    }
  });
  fill(root, h('main', { class: 'login-page' }, h('div', { class: 'login-box' }, form, languagePicker(onLanguage))));
  email.focus();
}

/** The page a reset link opens: checks the link, asks for the new password twice, signs in. */
export function showReset(root: HTMLElement, token: string, onSignedIn: () => Promise<void>, onLanguage: (code: string) => void): void {
  const password = h('input', { type: 'password', name: 'new-password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { type: 'password', name: 'new-password-again', autocomplete: 'new-password', required: true, minlength: 8 });
  const error = h('p', { class: 'alert', role: 'alert', hidden: true });
  const who = h('p', { class: 'muted' });
  const submit = h('button', { type: 'submit' }, m.setPassword);
  const form = h('form', { class: 'login', 'aria-labelledby': 'reset-title' },
    h('h1', { id: 'reset-title' }, m.chooseNewPassword), who, error,
    field(m.newPassword, password), field(m.newPasswordAgain, again), h('p', { class: 'muted' }, m.passwordRule), submit);
  const fail = (text: string) => { error.hidden = false; error.textContent = text; };
  void request<{ email: string }>('POST', '/api/auth/password-reset/check', { token }, { auth: false })
    .then((r) => { who.textContent = m.resetFor(r.email); }, () => { fail(m.resetLinkInvalid); submit.disabled = true; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (password.value !== again.value) return fail(m.passwordsDiffer);
    submit.disabled = true;
    try {
      const answer = await request<Answer>('POST', '/api/auth/password-reset/complete', { token, password: password.value }, { auth: false });
      session.save(answer.access_token, answer.staff);
      history.replaceState(null, '', location.pathname);
      await onSignedIn();
    } catch (err) {
      submit.disabled = false;
      fail(err instanceof ApiError && err.status === 400 ? m.resetLinkInvalid : (err as Error).message);
    }
  });
  fill(root, h('main', { class: 'login-page' }, h('div', { class: 'login-box' }, form, languagePicker(onLanguage))));
  password.focus();
}

// The dashboard's entry: the sign-in form, or the signed-in shell when sessionStorage holds a
// token. A 401 anywhere brings the form back with "your session has expired". Switching the
// language draws the page again in it (the URL keeps the view and its choices).
import 'uplot/dist/uPlot.min.css';
import '../styles.css';
import { get, onSessionExpired, session, type Staff } from '../api.js';
import { initLanguage, m, rememberLanguage } from '../i18n.js';
import { showShell } from './shell.js';
import type { Page, School } from '../types.js';
import { showLogin, showReset } from '../views/login.js';

const root = document.getElementById('app')!;
let closeShell: (() => void) | null = null;

function signOut(message?: () => string): void {
  closeShell?.();
  closeShell = null;
  session.clear();
  showLogin(root, message?.(), start, switchLanguage);
}

function switchLanguage(code: string): void {
  rememberLanguage(code);
  initLanguage();
  closeShell?.();
  closeShell = null;
  void start();
  document.getElementById('language-picker')?.focus();
}

async function schoolsFor(staff: Staff): Promise<School[]> {
  if (staff.role === 'school_admin' && staff.school_id !== null) return [await get<School>(`/api/schools/${staff.school_id}`)];
  return (await get<Page<School>>('/api/schools?limit=500')).items;
}

/** The token of a reset link (#reset?token=…), if the page was opened with one. */
function resetToken(): string | null {
  const match = /^#reset\?(.*)$/.exec(location.hash);
  return match ? new URLSearchParams(match[1]).get('token') : null;
}

async function start(): Promise<void> {
  const token = resetToken();
  if (token) {
    // Whoever was signed in on this tab gives way to the account of the link.
    session.clear();
    return showReset(root, token, start, switchLanguage);
  }
  const staff = session.staff();
  if (!session.token() || !staff) return showLogin(root, undefined, start, switchLanguage);
  try {
    const schools = await schoolsFor(staff);
    if (schools.length === 0) {
      root.replaceChildren();
      root.append(Object.assign(document.createElement('p'), { className: 'alert', textContent: m.noSchool }));
      return;
    }
    closeShell = showShell(root, staff, schools, () => signOut(() => m.signedOut), switchLanguage);
  } catch (err) {
    if ((err as Error).name !== 'SessionExpired') showLogin(root, m.couldNotLoad((err as Error).message), start, switchLanguage);
  }
}

initLanguage();
onSessionExpired(() => signOut(() => m.sessionExpired));
void start();

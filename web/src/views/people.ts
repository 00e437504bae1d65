// The school's people (issue #29): pupils added, edited, deactivated and reactivated (never
// deleted: their history stays), a roster file (CSV or XLSX) previewed with each row's action
// or problem, then applied; and the staff accounts this reader may manage (backoffice: every
// account of the school, and backoffice accounts; a school admin: their school's admins), each
// with a one-time password reset link shown once. Every change is audited by the API.
import { ApiError, getAll, patch, post, request, upload } from '../api.js';
import { confirmAction } from '../confirm.js';
import { append, badge, field, fill, h, select, table } from '../dom.js';
import { copyable, formDialog, onceDialog } from '../form-dialog.js';
import { dateTime, day, dayOf } from '../format.js';
import { m } from '../i18n.js';
import type { PasswordReset, RosterImport, StaffAccount, User } from '../types.js';
import type { View, ViewContext } from '../view.js';

/** Runs a write, says what it did (or why it failed), then redraws the list it changed. */
async function acting(ctx: ViewContext, run: () => Promise<unknown>, done: string, refresh: () => Promise<void>): Promise<void> {
  try {
    await run();
    ctx.notify(done);
    await refresh();
  } catch (err) {
    ctx.notify((err as Error).message, 'error');
  }
}

const SHOWN = 200;

function pupilsSection(ctx: ViewContext) {
  const { school } = ctx;
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const badgeInput = h('input', { name: 'badge', required: true, autocomplete: 'off' });
  const enrolled = h('input', { name: 'enrolled_on', type: 'date' });
  const addForm = h('form', { class: 'controls no-print', 'aria-label': m.addPupil },
    field(m.name, name), field(m.badge, badgeInput), field(m.enrolledOnLabel, enrolled), h('button', { type: 'submit' }, m.addPupil));
  const search = h('input', { type: 'search', autocomplete: 'off' });
  const withInactive = h('input', { type: 'checkbox', id: 'with-inactive' });
  const list = h('div');
  const element = h('section', { class: 'people-pupils', 'aria-labelledby': 'pupils-title' },
    h('h3', { id: 'pupils-title' }, m.pupilsTitle), addForm,
    h('div', { class: 'controls no-print' }, field(m.searchPupils, search), h('label', { class: 'check', for: 'with-inactive' }, withInactive, ` ${m.showDeactivated}`)),
    list);
  let users: User[] = [];

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const created = await post<User>('/api/users', { school_id: school.id, name: name.value.trim(), badge: badgeInput.value.trim(), ...(enrolled.value && { enrolled_on: enrolled.value }) });
      ctx.notify(m.pupilAdded(created.name));
      addForm.reset();
      name.focus();
      await refresh();
    } catch (err) {
      ctx.notify((err as Error).message, 'error');
    }
  });

  async function edit(u: User): Promise<void> {
    const values = await formDialog(m.editPupil(u.name), [
      { name: 'name', label: m.name, value: u.name, required: true },
      { name: 'badge', label: m.badge, value: u.badge, required: true },
      { name: 'enrolled_on', label: m.enrolledOnLabel, type: 'date', value: u.enrolled_on, required: true },
    ], m.save);
    if (!values) return;
    await act(() => patch(`/api/users/${u.id}`, values), m.pupilSaved(values.name));
  }

  const act = (run: () => Promise<unknown>, done: string) => acting(ctx, run, done, refresh);

  function draw(): void {
    const q = search.value.trim().toLocaleLowerCase();
    const shown = users.filter((u) => (withInactive.checked || !u.deleted_at) && (!q || u.name.toLocaleLowerCase().includes(q) || u.badge.toLocaleLowerCase().includes(q)));
    fill(list,
      h('p', { class: 'muted', 'aria-live': 'polite' }, m.pupilsCount(shown.length)),
      table(m.pupilsOf(school.name), [m.name, m.badge, m.enrolledOnLabel, m.statusHeader, m.actions],
        shown.slice(0, SHOWN).map((u) => [
          u.name, u.badge, day(u.enrolled_on),
          u.deleted_at ? badge(m.deactivatedOn(day(dayOf(u.deleted_at, school.timezone))), 'warn') : badge(m.active, 'ok'),
          h('div', { class: 'row-actions no-print' },
            h('button', { type: 'button', class: 'secondary', 'aria-label': m.editPupil(u.name), onclick: () => void edit(u) }, m.edit),
            u.deleted_at
              ? h('button', { type: 'button', class: 'secondary', 'aria-label': m.reactivateNamed(u.name), onclick: () => void act(() => post(`/api/users/${u.id}/reactivate`), m.reactivated(u.name)) }, m.reactivate)
              : h('button', {
                type: 'button', class: 'secondary', 'aria-label': m.deactivateNamed(u.name),
                onclick: async () => {
                  if (await confirmAction(m.deactivatePupilTitle(u.name), [m.deactivatePupilBody], m.deactivate)) await act(() => request('DELETE', `/api/users/${u.id}`), m.deactivated(u.name));
                },
              }, m.deactivate)),
        ]), { empty: m.noPupilMatches, className: 'people' }),
      shown.length > SHOWN ? h('p', { class: 'muted' }, m.narrowSearch(SHOWN)) : null);
  }

  async function refresh(): Promise<void> {
    users = await getAll<User>(`/api/users?school_id=${school.id}&include_deleted=true`, 10_000);
    users.sort((a, b) => a.name.localeCompare(b.name));
    draw();
  }
  search.addEventListener('input', draw);
  withInactive.addEventListener('change', draw);
  return { element, refresh };
}

function importSection(ctx: ViewContext, onApplied: () => Promise<void>) {
  const { school } = ctx;
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  const previewButton = h('button', { type: 'submit' }, m.previewImport);
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'controls no-print', 'aria-label': m.rosterImportTitle }, field(m.rosterFile, file), previewButton);
  const element = h('section', { class: 'people-import no-print', 'aria-labelledby': 'import-title' },
    h('h3', { id: 'import-title' }, m.rosterImportTitle), h('p', { class: 'muted' }, m.rosterImportHelp), form, result);

  const send = (apply: boolean) => {
    const data = new FormData();
    data.append('school_id', String(school.id));
    data.append('apply', String(apply));
    data.append('file', file.files![0]);
    return upload<RosterImport>('/api/users/import', data);
  };

  function show(answer: RosterImport): void {
    const toApply = answer.rows.filter((r) => r.action !== 'error' && r.action !== 'unchanged').length;
    const errors = answer.rows.filter((r) => r.action === 'error').length;
    const apply = h('button', { type: 'button', disabled: toApply === 0 }, m.applyImport(toApply));
    apply.addEventListener('click', async () => {
      apply.disabled = true;
      try {
        const applied = await send(true);
        fill(result, h('p', { class: 'finality ok' }, m.importApplied(applied.rows.filter((r) => r.action !== 'error' && r.action !== 'unchanged').length, errors)));
        ctx.notify(m.importDone);
        await onApplied();
      } catch (err) {
        apply.disabled = false;
        ctx.notify((err as Error).message, 'error');
      }
    });
    fill(result,
      h('p', { class: errors ? 'finality warn' : 'finality ok' }, m.importSummary(answer.rows.length, toApply, errors)),
      table(m.importPreview, [m.line, m.name, m.badge, m.importResult],
        answer.rows.map((r) => [
          String(r.line), r.name, r.badge,
          r.action === 'error'
            ? badge(m.rowProblem[r.problem ?? 'malformed_row'](r.first_line ?? 0), 'bad')
            : badge(m.rowAction[r.action], r.action === 'unchanged' ? 'info' : 'ok'),
        ]), { className: 'import-preview' }),
      h('div', { class: 'controls' }, apply));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file.files?.length) return ctx.notify(m.chooseFile, 'error');
    previewButton.disabled = true;
    try {
      show(await send(false));
    } catch (err) {
      fill(result);
      ctx.notify(err instanceof ApiError ? err.message : (err as Error).message, 'error');
    } finally {
      previewButton.disabled = false;
    }
  });
  return { element };
}

function staffSection(ctx: ViewContext) {
  const { school, isBackoffice } = ctx;
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { name: 'name', autocomplete: 'off' });
  const role = select([['school_admin', m.roleName.school_admin], ['backoffice', m.roleName.backoffice]], 'school_admin');
  const addForm = h('form', { class: 'controls no-print', 'aria-label': m.addStaff },
    field(m.email, email), field(m.name, name), isBackoffice ? field(m.role, role) : null, h('button', { type: 'submit' }, m.addStaff));
  const list = h('div');
  const element = h('section', { class: 'people-staff', 'aria-labelledby': 'staff-title' },
    h('h3', { id: 'staff-title' }, m.staffTitle), h('p', { class: 'muted' }, isBackoffice ? m.staffHelpBackoffice : m.staffHelpAdmin), addForm, list);

  async function showReset(account: StaffAccount, reset: PasswordReset): Promise<void> {
    await onceDialog(m.resetLinkTitle(account.email), [
      h('p', {}, m.resetLinkOnce(dateTime(reset.expires_at, school.timezone))),
      reset.emailed ? h('p', {}, m.resetLinkEmailed(account.email)) : null,
      copyable(m.resetLink, reset.reset_url, 'reset-url'),
    ].filter((n): n is HTMLElement => n !== null));
  }

  const act = (run: () => Promise<unknown>, done: string) => acting(ctx, run, done, refresh);

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = isBackoffice ? role.value : 'school_admin';
      const created = await post<StaffAccount>('/api/staff', { email: email.value.trim(), ...(name.value.trim() && { name: name.value.trim() }), role: r, ...(r === 'school_admin' && { school_id: school.id }) });
      addForm.reset();
      await refresh();
      // A new account has no password anyone knows: its first one is chosen through a reset link.
      await showReset(created, await post<PasswordReset>(`/api/staff/${created.id}/password-reset`, {}));
    } catch (err) {
      ctx.notify((err as Error).message, 'error');
    }
  });

  async function refresh(): Promise<void> {
    const ofSchool = await getAll<StaffAccount>(`/api/staff?school_id=${school.id}`);
    const accounts = isBackoffice ? [...ofSchool, ...(await getAll<StaffAccount>('/api/staff')).filter((s) => s.role === 'backoffice')] : ofSchool;
    fill(list, table(m.staffOf(school.name), [m.email, m.name, m.role, m.statusHeader, m.actions],
      accounts.map((s) => [
        s.email, s.name ?? '—', m.roleName[s.role],
        s.deactivated_at ? badge(m.deactivatedOn(day(dayOf(s.deactivated_at, school.timezone))), 'warn') : badge(m.active, 'ok'),
        s.id === ctx.staff.id ? h('span', { class: 'muted' }, m.you) : h('div', { class: 'row-actions no-print' },
          s.deactivated_at ? null : h('button', {
            type: 'button', class: 'secondary', 'aria-label': m.resetPasswordOf(s.email),
            onclick: async () => {
              if (!(await confirmAction(m.resetPasswordOf(s.email), [m.resetPasswordBody], m.resetPassword))) return;
              try {
                await showReset(s, await post<PasswordReset>(`/api/staff/${s.id}/password-reset`, {}));
              } catch (err) {
                ctx.notify((err as Error).message, 'error');
              }
            },
          }, m.resetPassword),
          s.deactivated_at
            ? h('button', { type: 'button', class: 'secondary', 'aria-label': m.reactivateNamed(s.email), onclick: () => void act(() => post(`/api/staff/${s.id}/reactivate`), m.reactivated(s.email)) }, m.reactivate)
            : h('button', {
              type: 'button', class: 'secondary', 'aria-label': m.deactivateNamed(s.email),
              onclick: async () => {
                if (await confirmAction(m.deactivateStaffTitle(s.email), [m.deactivateStaffBody], m.deactivate)) await act(() => post(`/api/staff/${s.id}/deactivate`), m.deactivated(s.email));
              },
            }, m.deactivate)),
      ]), { empty: m.nothingToShow, className: 'people' }));
  }
  return { element, refresh };
}

export const peopleView: View = {
  id: 'people',
  mount(panel, ctx) {
    const pupils = pupilsSection(ctx);
    const roster = importSection(ctx, () => pupils.refresh());
    const staff = staffSection(ctx);
    append(panel, [h('h2', { class: 'view-title' }, m.peopleAt(ctx.school.name)), pupils.element, roster.element, staff.element]);
    let first = true;
    return {
      async refresh() {
        // Lists are drawn once and after each change: a refresh every 20 s would close an open edit.
        if (!first) return;
        first = false;
        await Promise.all([pupils.refresh(), staff.refresh()]);
      },
    };
  },
};

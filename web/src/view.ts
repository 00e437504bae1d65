// What every view module exports, and what the shell gives it. A view draws itself into its
// panel once (`mount`) and redraws from the API on `refresh`, which the shell calls on a
// timer while the tab is visible. Adding a view: one module here in views/, one line in
// views/index.ts, its tab title in each locales/ file.
import type { Staff } from './api.js';
import type { School } from './types.js';

export interface ViewContext {
  staff: Staff;
  /** The school being looked at (a backoffice user picks it). */
  school: School;
  schools: School[];
  isBackoffice: boolean;
  /** Shows a short message in the live region: a confirmation or an error. */
  notify(message: string, tone?: 'ok' | 'error'): void;
  /** Ask the shell to run this view's refresh now (after an action changed something). */
  refreshSoon(): void;
  /** The choices in the URL when the view was opened: period, from, to, user, school. */
  params: URLSearchParams;
  /** Writes choices to the URL (null removes one): they outlive a reload and a tab change. */
  setParams(patch: Record<string, string | null>): void;
  /** A link to a view with these choices changed (null removes one), the others kept. */
  href(viewId: string, patch: Record<string, string | null>): string;
  /** The period printed under the page header (print stylesheet). */
  setPrintPeriod(text: string): void;
}

export interface ViewInstance {
  refresh(): Promise<void>;
  destroy?(): void;
}

export interface View {
  id: string;
  backofficeOnly?: boolean;
  /** Whose time zone the view's dates are in: the school's (default) or the reader's. */
  zone?: 'school' | 'reader';
  mount(panel: HTMLElement, ctx: ViewContext): ViewInstance;
}

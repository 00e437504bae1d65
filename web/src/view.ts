// What every view module exports, and what the shell gives it. A view draws itself into its
// panel once (`mount`) and redraws from the API on `refresh`, which the shell calls on a
// timer while the tab is visible. Adding a view: one module here in views/, one line in views/index.ts.
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
}

export interface ViewInstance {
  refresh(): Promise<void>;
  destroy?(): void;
}

export interface View {
  id: string;
  title: string;
  backofficeOnly?: boolean;
  mount(panel: HTMLElement, ctx: ViewContext): ViewInstance;
}

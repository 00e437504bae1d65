// A roster file staff upload (issue #29): the columns of roster.csv (roster-csv.ts: `user_id`,
// `name`, `badge`, `active`; `user_id` is ignored, the badge identifies a pupil) plus an
// optional `enrolled_on` (YYYY-MM-DD). Header names are matched ignoring case, spaces and
// order; `name` and `badge` are required. Each row is checked here and planned against the
// school's users by badge: created, updated, deactivated, reactivated, unchanged, or refused
// with its problem named. Planning again after applying finds nothing to do (idempotent on badge).
import { ROSTER_COLUMNS } from './roster-csv.js';

export const ROSTER_IMPORT_COLUMNS = [...ROSTER_COLUMNS, 'enrolled_on'] as const;
export const ROSTER_IMPORT_MAX_ROWS = 5000;
export const ROSTER_IMPORT_MAX_BYTES = 2 * 1024 * 1024;
const NAME_MAX = 200;
const BADGE_MAX = 64;

export type RosterProblem =
  | 'malformed_row' | 'name_missing' | 'name_too_long' | 'badge_missing' | 'badge_too_long' | 'badge_repeated'
  | 'enrolled_on_invalid' | 'active_invalid' | 'formula' | 'inactive_unknown';

export type RosterAction = 'create' | 'update' | 'deactivate' | 'reactivate' | 'unchanged' | 'error';

export interface RosterRowPlan {
  /** The row's line in the file (the header is line 1). */
  line: number;
  name: string;
  badge: string;
  enrolled_on: string | null;
  action: RosterAction;
  problem: RosterProblem | null;
  /** The existing user it matches by badge. */
  user_id: number | null;
  /** For badge_repeated: the line it first appeared on. */
  first_line?: number;
}

export interface ExistingUser {
  id: number;
  name: string;
  badge: string;
  deleted: boolean;
}

/** A raw row: a line number and its cells as text (a formula cell of a spreadsheet is flagged, not read). */
export interface RawRow {
  line: number;
  cells: string[];
  formula?: boolean;
  malformed?: boolean;
}

export class RosterHeaderError extends Error {}

/** Column positions by name; throws naming a missing or unknown column. */
export function rosterHeader(cells: string[]): Map<string, number> {
  const at = new Map<string, number>();
  cells.forEach((c, i) => {
    const key = c.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/\s+/g, '_');
    if (key === '') return;
    if (!(ROSTER_IMPORT_COLUMNS as readonly string[]).includes(key)) throw new RosterHeaderError(`unknown column "${c.slice(0, 40)}"; expected ${ROSTER_IMPORT_COLUMNS.join(', ')}`);
    if (at.has(key)) throw new RosterHeaderError(`column "${key}" appears twice`);
    at.set(key, i);
  });
  for (const required of ['name', 'badge']) if (!at.has(required)) throw new RosterHeaderError(`column "${required}" is missing`);
  return at;
}

const FORMULA = /^[=+@\t\r]/;

function validDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

function activeOf(raw: string): boolean | null | 'invalid' {
  const v = raw.trim().toLowerCase();
  if (v === '') return null;
  if (['1', 'true', 'yes', 'oui'].includes(v)) return true;
  if (['0', 'false', 'no', 'non'].includes(v)) return false;
  return 'invalid';
}

export function planRosterImport(header: Map<string, number>, rows: RawRow[], existing: Map<string, ExistingUser>): RosterRowPlan[] {
  const seen = new Map<string, number>();
  const cell = (r: RawRow, col: string) => {
    const i = header.get(col);
    return i === undefined ? '' : (r.cells[i] ?? '').trim();
  };
  return rows.map((r) => {
    const name = cell(r, 'name');
    const badge = cell(r, 'badge');
    const enrolled = cell(r, 'enrolled_on');
    const active = activeOf(cell(r, 'active'));
    const base = { line: r.line, name: name.slice(0, NAME_MAX + 1), badge: badge.slice(0, BADGE_MAX + 1), enrolled_on: enrolled || null, user_id: null };
    const refuse = (problem: RosterProblem, extra: Partial<RosterRowPlan> = {}): RosterRowPlan => ({ ...base, action: 'error', problem, ...extra });
    if (r.malformed) return refuse('malformed_row');
    if (r.formula || FORMULA.test(name) || FORMULA.test(badge)) return refuse('formula');
    if (!name) return refuse('name_missing');
    if (name.length > NAME_MAX) return refuse('name_too_long');
    if (!badge) return refuse('badge_missing');
    if (badge.length > BADGE_MAX) return refuse('badge_too_long');
    if (enrolled && !validDate(enrolled)) return refuse('enrolled_on_invalid');
    if (active === 'invalid') return refuse('active_invalid');
    const first = seen.get(badge);
    if (first !== undefined) return refuse('badge_repeated', { first_line: first });
    seen.set(badge, r.line);
    const user = existing.get(badge);
    if (!user) {
      if (active === false) return refuse('inactive_unknown');
      return { ...base, action: 'create', problem: null };
    }
    const found = { ...base, user_id: user.id, problem: null };
    if (active === false) return { ...found, action: user.deleted ? 'unchanged' : 'deactivate' };
    if (user.deleted && active === true) return { ...found, action: 'reactivate' };
    // A deactivated pupil listed without `active` stays deactivated: reactivating takes saying so.
    return { ...found, action: user.name === name ? 'unchanged' : 'update' };
  });
}

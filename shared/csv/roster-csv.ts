// `roster.csv` in the synchro instruction package (docs/protocol/v4.md §5): `user_id,name,badge,active`.
// Where the protocol is silent: `active` is `1` or `0` (trivial for firmware to read), an absent
// badge is an empty field, and the file is written by toCsv (CRLF, formula-escaped text).

import { toCsv } from './safe-csv-cell.js';

export const ROSTER_COLUMNS = ['user_id', 'name', 'badge', 'active'] as const;

export interface RosterEntry {
  userId: number;
  name: string;
  badge: string | null;
  active: boolean;
}

export function buildRosterCsv(entries: readonly RosterEntry[]): string {
  return toCsv(ROSTER_COLUMNS, entries.map((e) => [e.userId, e.name, e.badge, e.active ? 1 : 0]));
}

// The commands the server queues for a PUSH terminal (docs/protocol/push.md §5), written once for
// the api (staff commands, flags) and the worker (roster changes, a new UTC offset), and what a
// roster command did once the terminal carried it out. Pure: the callers queue them.

const DAY_MS = 86_400_000;

/** Commands staff may send directly (besides flags): the verbs real firmware accepts. */
export const PUSH_COMMANDS = ['REBOOT', 'INFO', 'CHECK', 'CLEAR LOG', 'DATA QUERY USERINFO'] as const;

/** `DATA UPDATE USERINFO` field values may hold no tab or line break (they separate fields and commands). */
export function commandField(value: string): string {
  return value.replace(/[\t\r\n]+/g, ' ').trim();
}

/** docs/protocol/push.md §5 roster commands. */
export function userUpdate(user: { badge: string; name: string }): string {
  return `DATA UPDATE USERINFO PIN=${commandField(user.badge)}\tName=${commandField(user.name)}\tPri=0`;
}

export function userDelete(user: { badge: string }): string {
  return `DATA DELETE USERINFO PIN=${commandField(user.badge)}`;
}

export interface RosterUser {
  badge: string;
  name: string;
  active: boolean;
}

/**
 * Roster users as the commands that bring a terminal's user list in line: an active user
 * updated, a deactivated one deleted. A first roster (`firstRoster`) carries the active users
 * only: there is nothing to delete on the terminal yet.
 */
export function rosterCommands(users: readonly RosterUser[], opts: { firstRoster: boolean } = { firstRoster: false }): string[] {
  return users.filter((u) => !opts.firstRoster || u.active).map((u) => (u.active ? userUpdate(u) : userDelete(u)));
}

/**
 * What a roster command does to the terminal's user list once it succeeded: the inverse of
 * userUpdate and userDelete (null for any other command). The server then knows the terminal
 * holds (or no longer holds) the user without waiting for its next OPERLOG.
 */
export function rosterCommandEffect(command: string): { op: 'update'; pin: string; name: string | null } | { op: 'delete'; pin: string } | null {
  const update = /^DATA UPDATE USERINFO PIN=([^\t]*)(?:\tName=([^\t]*))?/.exec(command);
  if (update) return { op: 'update', pin: update[1], name: update[2] ?? null };
  const remove = /^DATA DELETE USERINFO PIN=([^\t]*)$/.exec(command);
  return remove ? { op: 'delete', pin: remove[1] } : null;
}

/** One option set on the terminal. */
export function setOption(key: string, value: string): string {
  return `SET OPTION ${commandField(key)}=${commandField(value)}`;
}

/**
 * A new UTC offset (docs/protocol/push.md §3 `TimeZone=`, shared/protocol/push.ts pushTimeZone):
 * set, then `CHECK`, which makes the terminal reload its options (TimeZone= and the server's clock
 * with them; firmware that refuses SET OPTION still reloads).
 */
export function timeZoneCommands(option: number): string[] {
  return [setOption('TimeZone', String(option)), 'CHECK'];
}

/** The terminal's wall clock, as it writes its own times. */
function pushTime(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/** `DATA QUERY ATTLOG` over [from, to), in windows of at most 31 days (RESEND_SINCE's rule). */
export function attlogQueries(from: Date, to: Date, timeZone: string): string[] {
  const out: string[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += 31 * DAY_MS) {
    const end = Math.min(start + 31 * DAY_MS, to.getTime());
    out.push(`DATA QUERY ATTLOG StartTime=${pushTime(new Date(start), timeZone)}\tEndTime=${pushTime(new Date(end), timeZone)}`);
  }
  return out;
}

/**
 * A flag (docs/protocol/v4.md §6) on a PUSH terminal as commands (docs/protocol/push.md §5). Null for a flag with no
 * PUSH meaning (PURGE_CONFIRMED_LOGS: the terminal keeps its own log; RESET_SESSION: no sessions).
 * FULL_RESYNC also sets the terminal's upload cursors back to 0 (the caller's part: a write).
 */
export function flagCommandLines(flag: { name: string; params: Record<string, unknown> }, ctx: { timeZone: string; now: Date; roster: readonly RosterUser[] }): string[] | null {
  switch (flag.name) {
    case 'REBOOT': return ['REBOOT'];
    case 'REPORT_SETTINGS': return ['INFO'];
    case 'SET_SETTINGS': return Object.entries(flag.params).map(([k, v]) => setOption(k, String(v)));
    case 'RELOAD_ROSTER': return rosterCommands(ctx.roster);
    case 'FULL_RESYNC':
      // The cursors back to 0 make the terminal send everything at its next upload; the query asks at once.
      return [`DATA QUERY ATTLOG StartTime=2000-01-01 00:00:00\tEndTime=${pushTime(new Date(ctx.now.getTime() + DAY_MS), ctx.timeZone)}`];
    case 'RESEND_SINCE': {
      const since = String(flag.params.since);
      return attlogQueries(new Date(`${since}T00:00:00Z`), new Date(ctx.now.getTime() + DAY_MS), ctx.timeZone);
    }
    default: return null;
  }
}

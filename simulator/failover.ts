// Failover between api hosts for the simulator's calls (`http()` asks it where each call goes).
// Devices are spread over several api base URLs (`--url` given more than once); when one of them
// stops answering at the connection level (refused, reset, unreachable: its host is gone), its
// calls go to the next URL of the same group for DOWN_MS, after which the first one is tried
// again. A refused connection never reached a server, so `http()` sends that call once more at
// once to the other host; a connection cut mid-request may have been handled, so that error
// reaches the caller, whose retry (an upload with the very same bytes, docs/protocol/v4.md §8)
// goes to the other host. Device and staff tokens are signed with the one JWT_SECRET every api
// host shares, so they are good on any of them. Used by test/hosts (docs/SCALING.md).

/** How long a host that failed at the connection level is avoided before it is tried again. */
export const DOWN_MS = 5_000;

const groups = new Map<string, readonly string[]>();
const downUntil = new Map<string, number>();

/** These base URLs stand in for one another from now on (in this process). */
export function failoverBetween(urls: readonly string[]): void {
  if (urls.length < 2) return;
  for (const url of urls) groups.set(url, urls);
}

const up = (url: string, now: number) => (downUntil.get(url) ?? 0) <= now;

/** Where a call meant for `base` goes: itself unless it is down, else the next of its group that is not. */
export function route(base: string): string {
  const group = groups.get(base);
  const now = Date.now();
  if (!group || up(base, now)) return base;
  const start = group.indexOf(base);
  for (let i = 1; i < group.length; i++) {
    const other = group[(start + i) % group.length];
    if (up(other, now)) return other;
  }
  return base;
}

/** Codes of a connection that failed before or while the request was sent, as Node's fetch reports them in `cause`. */
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN']);
const CUT = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(err: unknown): string | undefined {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/**
 * After a failed fetch to `target`: null when the failure is not the host's (or `target` has no
 * group); otherwise `target` is marked down and the answer says whether the call may be sent
 * again at once (`resend`: the connection was refused, the request never left) and where.
 */
export function onConnectionFailure(target: string, err: unknown): { resend: string | null } | null {
  const code = causeCode(err);
  if (!groups.has(target) || code === undefined || !(REFUSED.has(code) || CUT.has(code))) return null;
  downUntil.set(target, Date.now() + DOWN_MS);
  const next = route(target);
  return { resend: REFUSED.has(code) && next !== target ? next : null };
}

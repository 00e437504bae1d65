// What the api's and the worker's Prometheus endpoints share: the bearer token check and the
// process metrics (prom-client's defaults: CPU, memory, event-loop lag, GC, handles).
import { createHash, timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, register } from 'prom-client';

let collecting = false;

/** Process metrics in the default registry, once per process. */
export function collectProcessMetrics(): void {
  if (collecting) return;
  collecting = true;
  collectDefaultMetrics({ register });
}

/** `Authorization: Bearer <token>` compared in constant time (hashes of equal length). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

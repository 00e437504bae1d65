// Logs (pino), one logger per process, named by role. JSON lines for machines (production, or
// any output that is not a terminal); readable lines (pino-pretty) for a person at a terminal,
// where per-request lines drop to debug so that `npm start`'s banner stays in view.
import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogFormat } from './config.js';

export type { Logger };

/** `auto` is pretty when stdout is a terminal (an `npm start` child inherits its terminal). */
export function isPretty(format: LogFormat = 'json'): boolean {
  return format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
}

export function createLogger(name: string, level: string, format: LogFormat = 'json'): Logger {
  const options = { name, level, base: { pid: process.pid, name } };
  if (!isPretty(format)) return pino(options);
  // Synchronous, in this thread: nothing is lost when a process exits at once (crash handlers).
  return pino(options, PinoPretty({
    sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', messageFormat: '{msg}',
  }));
}

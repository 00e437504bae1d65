// Process lifecycle shared by every entry point: crash on what cannot be trusted any more
// (correctness never depends on a clean exit), and shut down gracefully on SIGTERM/SIGINT.
import type { Logger } from '../shared/logger.js';

export function installCrashHandlers(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection: exiting');
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: exiting');
    process.exit(1);
  });
}

/** Runs `stop` once on the first SIGTERM/SIGINT; a second signal or a stuck stop exits at once. */
export function onShutdown(logger: Logger, stop: () => Promise<void>, timeoutMs = 20_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Restart delay after the n-th consecutive crash: 0.5 s doubling up to 30 s. */
export function backoffMs(consecutiveCrashes: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, consecutiveCrashes - 1));
}

/**
 * A child of `npm start` (spawned with an IPC channel) stops when its supervisor is gone: a
 * supervisor killed with SIGKILL would otherwise leave it holding the port, and the next start
 * (which takes over the stale lock) could not listen.
 */
export function stopWithSupervisor(logger: Logger): void {
  if (!process.connected) return;
  process.once('disconnect', () => {
    logger.error('the supervising npm start is gone: stopping');
    process.kill(process.pid, 'SIGTERM');
  });
}

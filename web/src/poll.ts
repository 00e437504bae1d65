// Refresh on a timer while the tab is visible; when it becomes visible again, refresh at once.
export function startPolling(run: () => Promise<void>, everyMs: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = stopped || document.hidden ? null : setTimeout(tick, everyMs);
  };
  const tick = async () => {
    await run().catch(() => undefined); // the view shows its own errors
    schedule();
  };
  const onVisibility = () => {
    if (document.hidden) {
      if (timer) clearTimeout(timer);
      timer = null;
    } else void tick();
  };
  document.addEventListener('visibilitychange', onVisibility);
  schedule();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

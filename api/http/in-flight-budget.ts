// Bytes of request bodies this process holds or is receiving, against a limit: each body
// reserves its size before a byte of it is read, and gives it back when its answer is finished
// or its connection closed. One for v4 uploads (UPLOAD_MAX_IN_FLIGHT_BYTES: without it, 16
// parallel 49 MB uploads took an api from 95 MB to 523 MB) and one for /iclock
// (PUSH_MAX_IN_FLIGHT_BYTES: 250 stalled terminal connections took one from 130 MB to 1.14 GB).

/** What a reservation waits on: the answer (node's ServerResponse, express's Response). */
interface Finishable {
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

export class InFlightBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.used;
  }

  /** Reserves `bytes` until `res` is finished or closed; false when that would exceed the limit. */
  reserve(bytes: number, res: Finishable): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.used -= bytes;
    };
    res.once('finish', release);
    res.once('close', release);
    return true;
  }
}

// Storage in memory: tests, and a kiosk that accepts losing its queue on reload. Values are copied
// in and out (structuredClone), so a client reopened on the same object sees exactly what was
// committed, as with a real database; every method is atomic (no await inside).
import type { Channel, RowState, StorageChanges, StoredBatch, StoredRow, SyncStorage } from '../core/types.js';

export interface MemoryStorage extends SyncStorage {
  /** Copies of what is held (tests). */
  dump(): { meta: Record<string, unknown>; rows: StoredRow[]; batches: StoredBatch[] };
}

export function memoryStorage(): MemoryStorage {
  let meta = new Map<string, unknown>();
  let rows = new Map<number, StoredRow>();
  let batches = new Map<Channel, StoredBatch>();
  let lease: { holder: string; until: number } | null = null;
  let nextKey = 1;
  const copy = <T>(v: T): T => structuredClone(v);
  return {
    async meta<T>(key: string) {
      return copy(meta.get(key)) as T | undefined;
    },
    async rows(channel: Channel, state?: RowState) {
      return [...rows.values()].filter((r) => r.channel === channel && (!state || r.state === state)).map(copy);
    },
    async countWaiting() {
      let n = 0;
      for (const r of rows.values()) if (r.state === 'waiting') n++;
      return n;
    },
    async batch(channel: Channel) {
      return copy(batches.get(channel));
    },
    async addRow(row: StoredRow) {
      const key = nextKey++;
      rows.set(key, copy({ ...row, key }));
      return key;
    },
    async commit(changes: StorageChanges) {
      for (const r of changes.rows ?? []) rows.set(r.key!, copy(r));
      for (const k of changes.deleteRows ?? []) rows.delete(k);
      if (changes.batch) {
        if (changes.batch.value) batches.set(changes.batch.channel, copy(changes.batch.value));
        else batches.delete(changes.batch.channel);
      }
      for (const [k, v] of Object.entries(changes.meta ?? {})) {
        if (v === null || v === undefined) meta.delete(k);
        else meta.set(k, copy(v));
      }
    },
    async lease(holder: string, ttlMs: number, nowMs: number) {
      if (lease && lease.holder !== holder && lease.until > nowMs) return false;
      lease = { holder, until: nowMs + ttlMs };
      return true;
    },
    async release(holder: string) {
      if (lease?.holder === holder) lease = null;
    },
    async clear() {
      meta = new Map();
      rows = new Map();
      batches = new Map();
      lease = null;
    },
    async close() {
      // nothing to close: the data stays for the next client opened on this object
    },
    dump() {
      return { meta: Object.fromEntries([...meta].map(([k, v]) => [k, copy(v)])), rows: [...rows.values()].map(copy), batches: [...batches.values()].map(copy) };
    },
  };
}

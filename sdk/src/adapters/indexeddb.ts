// Storage in IndexedDB through Dexie: what a browser app uses (and Node tests, with fake-indexeddb).
// One database per app; every method is one Dexie transaction, so a tab killed mid-write leaves the
// write done or not done, and two tabs on the same database see each other's rows at once.
import { Dexie, type Table } from 'dexie';
import type { Channel, RowState, StorageChanges, StoredBatch, StoredRow, SyncStorage } from '../core/types.js';

interface MetaRow { key: string; value: unknown }

class SdkDatabase extends Dexie {
  meta!: Table<MetaRow, string>;
  rows!: Table<StoredRow, number>;
  batches!: Table<StoredBatch, Channel>;

  constructor(name: string, options?: { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange }) {
    super(name, options);
    this.version(1).stores({ meta: 'key', rows: '++key, [channel+state], state', batches: 'channel' });
  }
}

export interface IndexedDbOptions {
  /** Another IndexedDB (fake-indexeddb in Node tests). Default: the global one. */
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
}

export function indexedDbStorage(name = 'attendance-sync', options: IndexedDbOptions = {}): SyncStorage {
  const db = new SdkDatabase(name, options.indexedDB ? { indexedDB: options.indexedDB, IDBKeyRange: options.IDBKeyRange! } : undefined);
  const LEASE = '__lease';
  return {
    async meta<T>(key: string) {
      return (await db.meta.get(key))?.value as T | undefined;
    },
    async rows(channel: Channel, state?: RowState) {
      const rows = state ? await db.rows.where({ channel, state }).toArray() : await db.rows.where('[channel+state]').between([channel, Dexie.minKey], [channel, Dexie.maxKey]).toArray();
      return rows.sort((a, b) => a.key! - b.key!);
    },
    countWaiting() {
      return db.rows.where('state').equals('waiting').count();
    },
    batch(channel: Channel) {
      return db.batches.get(channel);
    },
    async addRow(row: StoredRow) {
      const { key: _key, ...rest } = row;
      return db.rows.add(rest as StoredRow);
    },
    async commit(changes: StorageChanges) {
      await db.transaction('rw', db.meta, db.rows, db.batches, async () => {
        if (changes.rows?.length) await db.rows.bulkPut(changes.rows);
        if (changes.deleteRows?.length) await db.rows.bulkDelete(changes.deleteRows);
        if (changes.batch) {
          if (changes.batch.value) await db.batches.put(changes.batch.value);
          else await db.batches.delete(changes.batch.channel);
        }
        for (const [key, value] of Object.entries(changes.meta ?? {})) {
          if (value === null || value === undefined) await db.meta.delete(key);
          else await db.meta.put({ key, value });
        }
      });
    },
    lease(holder: string, ttlMs: number, nowMs: number) {
      return db.transaction('rw', db.meta, async () => {
        const held = (await db.meta.get(LEASE))?.value as { holder: string; until: number } | undefined;
        if (held && held.holder !== holder && held.until > nowMs) return false;
        await db.meta.put({ key: LEASE, value: { holder, until: nowMs + ttlMs } });
        return true;
      });
    },
    async release(holder: string) {
      await db.transaction('rw', db.meta, async () => {
        const held = (await db.meta.get(LEASE))?.value as { holder: string } | undefined;
        if (held?.holder === holder) await db.meta.delete(LEASE);
      });
    },
    async clear() {
      await db.transaction('rw', db.meta, db.rows, db.batches, async () => {
        await Promise.all([db.meta.clear(), db.rows.clear(), db.batches.clear()]);
      });
    },
    async close() {
      db.close();
    },
  };
}

import type { Generated, Insertable, JSONColumnType, Selectable, Updateable } from 'kysely';

export type DeviceKind = 'terminal' | 'mobile';
export type DeviceProtocol = 'v4' | 'push';

export interface DevicesTable {
  id: Generated<string>;
  school_id: number;
  name: string;
  kind: Generated<DeviceKind>;
  secret_hash: string;
  disabled_at: Date | null;
  sync_interval_seconds: Generated<number>;
  last_seen_at: Date | null;
  last_synced_at: Date | null;
  last_device_clock: Date | null;
  clock_skew_seconds: number | null;
  firmware: string | null;
  reported_timezone: string | null;
  pending_records: number | null;
  roster_version: number | null;
  reported_settings: JSONColumnType<Record<string, string>> | null;
  protocol: Generated<DeviceProtocol>;
  /** PUSH terminals only (docs/protocol/push.md §2). */
  serial_number: string | null;
  /** The device's own IANA timezone when it differs from its school's. */
  timezone: string | null;
  /** CIDR networks a PUSH terminal may call from; null: any. */
  allowed_networks: string[] | null;
  /** A PUSH terminal called from an address it is not bound to (changed), or from two at once (conflict): held until staff confirm. */
  address_alert: 'address_changed' | 'address_conflict' | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type Device = Selectable<DevicesTable>;
export type NewDevice = Insertable<DevicesTable>;
export type DeviceUpdate = Updateable<DevicesTable>;

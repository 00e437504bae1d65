import type { Generated, JSONColumnType, Selectable } from 'kysely';

export interface DeviceFlagsTable {
  id: Generated<number>;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  name: string;
  params: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  set_by: number | null;
  set_at: Generated<Date>;
  expires_at: Date | null;
  delivered_in: string | null;
  delivered_at: Date | null;
  applied_at: Date | null;
  cancelled_at: Date | null;
  progress: JSONColumnType<Record<string, unknown>> | null;
}
export type DeviceFlag = Selectable<DeviceFlagsTable>;

export interface FlagEventsTable {
  id: Generated<number>;
  flag_id: number;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  action: string;
  staff_id: number | null;
  session_id: string | null;
  details: JSONColumnType<Record<string, unknown>> | null;
  at: Generated<Date>;
}

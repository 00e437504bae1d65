// Tables of the sondes, messagerie and photos channels (docs/protocol/v4.md §7).
import type { Generated, Selectable } from 'kysely';

export interface ReadingsTable {
  id: Generated<number>;
  school_id: number;
  device_id: string;
  record_id: number;
  user_id: number | null;
  measured_at: Date;
  temperature: number;
  sensor: string | null;
  session_id: string | null;
  created_at: Generated<Date>;
}
export type Reading = Selectable<ReadingsTable>;

/** A reading's device key (readings are partitioned by month): written with the row. */
export interface ReadingKeysTable {
  school_id: number;
  device_id: string;
  record_id: number;
}

export type MessagePriority = 'normal' | 'high';

/** Office → devices; `device_id` null: every device of the school. */
export interface MessagesTable {
  id: Generated<number>;
  school_id: number;
  device_id: string | null;
  body: string;
  priority: Generated<MessagePriority>;
  expires_at: Date | null;
  created_by: number | null;
  created_at: Generated<Date>;
}
export type Message = Selectable<MessagesTable>;

export interface MessageDeliveriesTable {
  message_id: number;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  session_id: string | null;
  delivered_at: Generated<Date>;
}

export interface AlertDeliveriesTable {
  fever_event_id: number;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  session_id: string | null;
  delivered_at: Generated<Date>;
}

/** Devices → office (messages.csv). */
export interface DeviceMessagesTable {
  id: Generated<number>;
  school_id: number;
  device_id: string;
  record_id: number;
  kind: 'info' | 'incident';
  body: string;
  created_at: Date;
  received_at: Generated<Date>;
  session_id: string | null;
}
export type DeviceMessage = Selectable<DeviceMessagesTable>;

export interface PhotosTable {
  sha256: string;
  content_type: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  bytes: number;
  data: Buffer;
  created_at: Generated<Date>;
}

export interface DevicePhotosTable {
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  name: string;
  sha256: string;
  session_id: string | null;
  stored_at: Generated<Date>;
}

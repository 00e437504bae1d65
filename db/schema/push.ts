// PUSH (iclock) terminals: their own state, command queue, reported users and operation log.
import type { ColumnType, Generated, JSONColumnType, Selectable } from 'kysely';

type Int8 = ColumnType<number, number | string | bigint | undefined, number | string | bigint>;

/**
 * The serial-number directory (a coordinator table at stage 2, docs/scaling-schema.md): every
 * serial number known, with its school once registered; a pending terminal's details until then.
 */
export interface PushSerialsTable extends TerminalReport {
  serial_number: string;
  /** Null while pending (called before being registered). */
  school_id: number | null;
}

/** What a terminal says about itself: kept in the directory while pending, in its row once registered. */
interface TerminalReport {
  first_seen_at: Generated<Date>;
  last_seen_at: Date | null;
  address: string | null;
  model: string | null;
  firmware: string | null;
  push_version: string | null;
  options: JSONColumnType<Record<string, string>> | null;
}

/** A registered terminal (per school): what it says about itself and the server's cursors. */
export interface PushTerminalsTable extends TerminalReport {
  serial_number: string;
  device_id: string;
  /** The device's school (follows it when it moves). */
  school_id: number;
  attlog_stamp: Int8;
  operlog_stamp: Int8;
  attphoto_stamp: Int8;
  delay_seconds: Generated<number>;
  roster_version: Int8;
  /** Minutes east of UTC last sent as TimeZone= (handshake, or a 'clock' command at a DST change); null: never. */
  timezone_offset_sent: number | null;
  /** How a registered terminal is bound to the address it calls from (docs/SECURITY.md, /iclock). */
  address_binding: Generated<AddressBinding>;
  /** The address its calls must come from (exactly, or within its /24 or /64); null: bound at its next call. */
  bound_address: string | null;
  /** Staff confirmed the bound address (approval of a pending terminal seen there, or the confirm endpoint). */
  bound_confirmed: Generated<boolean>;
  /** Its last admitted call. */
  bound_seen_at: Date | null;
  /** Another address that called for it (held): since when, and last. */
  claimed_address: string | null;
  claimed_since: Date | null;
  claimed_at: Date | null;
  /** The bound address kept calling while another one claimed the SN. */
  conflict_at: Date | null;
  /** Security PUSH 3.x: the RegistryCode and SessionID it was given; once it sent their token, every call must. */
  registry_code: string | null;
  session_id: string | null;
  registry_token_seen_at: Date | null;
}
export type AddressBinding = 'exact' | 'network' | 'off';
export type PushTerminal = Selectable<PushTerminalsTable>;

export type PushCommandStatus = 'queued' | 'sent' | 'succeeded' | 'failed' | 'cancelled';
export type PushCommandSource = 'staff' | 'flag' | 'roster' | 'clock';

export interface PushCommandsTable {
  id: Generated<number>;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  command: string;
  source: PushCommandSource;
  flag_id: number | null;
  created_by: number | null;
  created_at: Generated<Date>;
  status: Generated<PushCommandStatus>;
  sends: Generated<number>;
  last_sent_at: Date | null;
  finished_at: Date | null;
  return_code: number | null;
  result_cmd: string | null;
  result_content: string | null;
  failure: string | null;
}
export type PushCommand = Selectable<PushCommandsTable>;

export interface PushTerminalUsersTable {
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  pin: string;
  name: string | null;
  privilege: string | null;
  card: string | null;
  fingerprints: Generated<number>;
  updated_at: Generated<Date>;
}

export interface PushOperlogTable {
  id: Generated<number>;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  line: string;
  received_at: Generated<Date>;
}

/** The body of a table the server does not import (docs/protocol/push.md §4 "any other table"), kept for staff. */
export interface PushUploadsTable {
  id: Generated<number>;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  table_name: string;
  body: Buffer;
  body_bytes: number;
  body_sha256: string;
  received_at: Generated<Date>;
}

/** Staff confirming the address a PUSH terminal is bound to (docs/SECURITY.md, /iclock): the audit trail. */
export interface PushAddressConfirmationsTable {
  id: Generated<number>;
  /** The device's school when the row was written (docs/scaling-schema.md). */
  school_id: number;
  device_id: string;
  address: string;
  previous_address: string | null;
  confirmed_by: number | null;
  confirmed_at: Generated<Date>;
}

/**
 * A punch refused as unknown_user (PUSH or v4) or in_future, kept until staff import or discard it
 * (docs/protocol/push.md §4 "held punches"). PUSH: keyed by (terminal, PIN, local time); v4: by
 * (device, record id), `pin` the user_id the device sent.
 */
export interface HeldPunchesTable {
  id: Generated<number>;
  school_id: number;
  device_id: string;
  session_id: string | null;
  pin: string;
  occurred_at: Date;
  local_time: string | null;
  type: 'checkin' | 'checkout' | null;
  punch_status: number | null;
  verify: number | null;
  temperature: number | null;
  held_at: Generated<Date>;
  imported_at: Date | null;
  attendance_id: number | null;
  source: Generated<'push' | 'v4'>;
  reason: Generated<'unknown_user' | 'in_future'>;
  record_id: number | null;
  photo: string | null;
  imported_by: number | null;
  discarded_at: Date | null;
  discarded_by: number | null;
}

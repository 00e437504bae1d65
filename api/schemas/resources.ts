// Response shapes of the REST resources (snake_case, as stored).
import { z } from 'zod';
import { timestamp } from './common.js';

export const schoolSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  timezone: z.string(),
  school_days: z.array(z.number().int()),
  day_end: z.string().describe('HH:MM, local time'),
  fever_threshold: z.number(),
  attendance_threshold: z.number().int().describe('Week/month: present on more than this percent of the counted days'),
  late_after: z.string().nullable().describe('HH:MM: a first check-in after it is late; null: no lateness'),
  records_from: z.string().nullable().describe('Days before it are "no data"; null: the first day of recorded attendance'),
  created_at: timestamp,
  updated_at: timestamp,
}).meta({ id: 'School' });

export const userSchema = z.object({
  id: z.number().int(),
  school_id: z.number().int(),
  name: z.string(),
  badge: z.string(),
  enrolled_on: z.string(),
  deleted_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
}).meta({ id: 'User' });

export const staffSchema = z.object({
  id: z.number().int(),
  email: z.string(),
  role: z.enum(['backoffice', 'school_admin']),
  school_id: z.number().int().nullable(),
  name: z.string().nullable(),
  deactivated_at: timestamp.nullable().describe('Set: the account cannot sign in'),
  created_at: timestamp,
  updated_at: timestamp,
}).meta({ id: 'Staff' });

export const deviceSchema = z.object({
  id: z.uuid(),
  school_id: z.number().int(),
  name: z.string(),
  kind: z.enum(['terminal', 'mobile']),
  disabled_at: timestamp.nullable(),
  sync_interval_seconds: z.number().int(),
  last_seen_at: timestamp.nullable(),
  last_synced_at: timestamp.nullable(),
  last_device_clock: timestamp.nullable(),
  clock_skew_seconds: z.number().int().nullable(),
  firmware: z.string().nullable(),
  reported_timezone: z.string().nullable(),
  pending_records: z.number().int().nullable(),
  roster_version: z.number().int().nullable(),
  protocol: z.enum(['v4', 'push']).describe('v4 (docs/protocol/v4.md) or push (ZKTeco-compatible iclock terminal, docs/protocol/push.md)'),
  serial_number: z.string().nullable().describe('PUSH terminals: the SN the terminal identifies itself with'),
  timezone: z.string().nullable().describe('The device\'s own timezone when it differs from its school\'s'),
  address_alert: z.enum(['address_changed', 'address_conflict']).nullable()
    .describe('PUSH terminals: it called from an address it is not bound to (address_changed), or from two at once (address_conflict); such calls are held until staff confirm an address (POST /api/push/terminals/:id/address)'),
  created_at: timestamp,
  updated_at: timestamp,
}).meta({ id: 'Device' });

export const attendanceSchema = z.object({
  id: z.number().int(),
  school_id: z.number().int(),
  user_id: z.number().int(),
  device_id: z.uuid().nullable().describe('Null for rows posted through the REST API'),
  record_id: z.number().int().nullable().describe("The device's own record id; null for REST rows"),
  type: z.enum(['checkin', 'checkout']),
  occurred_at: timestamp,
  temperature: z.number().nullable().describe('°C'),
  photo: z.string().nullable(),
  session_id: z.uuid().nullable().describe('The sync session that imported the row'),
  clock_suspect: z.boolean(),
  created_by: z.number().int().nullable().describe('The staff account that posted the row over REST'),
  pin: z.string().nullable().describe('PUSH terminals: the PIN the punch carried (the user\'s badge)'),
  verify: z.number().int().nullable().describe('PUSH terminals: how the user was verified (fingerprint, card, face …, as the terminal codes it)'),
  type_inferred: z.boolean().describe('The terminal sent no in/out: the type was inferred by pairing the day\'s punches'),
  created_at: timestamp,
  reason: z.string().nullable().describe('A correction\'s reason (a missed badge, entered by staff), or a withdrawal\'s'),
  cancels_id: z.number().int().nullable().describe('A withdrawal: the correction this row cancels (neither counts any more)'),
}).meta({ id: 'Attendance' });

// Response shapes of the REST resources (snake_case, as stored).
import { z } from 'zod';
import { timestamp } from './common.js';

export const schoolSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  timezone: z.string(),
  school_days: z.array(z.number().int()),
  day_end: z.string(),
  fever_threshold: z.number(),
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
  created_at: timestamp,
  updated_at: timestamp,
}).meta({ id: 'Device' });

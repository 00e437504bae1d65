// Probe readings of the sondes channel (docs/protocol/v4.md §7): one statement per chunk inserts the new
// readings and, for those at or above the school's fever threshold, their fever events.
import { sql } from 'kysely';
import type { ReadingRow } from '../../shared/csv/reading-row.js';
import type { Trx } from '../database.js';

export interface InsertedReading {
  id: number;
  record_id: number;
  user_id: number | null;
  measured_at: Date;
  temperature: number;
  fever: boolean;
}

export async function insertReadings(
  trx: Trx,
  target: { schoolId: number; deviceId: string; sessionId: string; feverThreshold: number },
  rows: readonly ReadingRow[],
): Promise<InsertedReading[]> {
  if (rows.length === 0) return [];
  const result = await sql<InsertedReading>`
    WITH t AS MATERIALIZED (
      SELECT * FROM unnest(${rows.map((r) => r.recordId)}::bigint[], ${rows.map((r) => r.userId)}::bigint[], ${rows.map((r) => r.measuredAt)}::timestamptz[],
                  ${rows.map((r) => r.temperature)}::numeric[], ${rows.map((r) => r.sensor)}::text[]) WITH ORDINALITY
           AS t(record_id, user_id, measured_at, temperature, sensor, ord)
    ), keys AS (
      -- The dedup key first (reading_keys: the partitioned table cannot hold it), same statement.
      INSERT INTO reading_keys (school_id, device_id, record_id) SELECT ${target.schoolId}, ${target.deviceId}::uuid, record_id FROM t
      ON CONFLICT DO NOTHING RETURNING record_id
    ), ins AS (
      INSERT INTO readings (school_id, device_id, record_id, user_id, measured_at, temperature, sensor, session_id)
      SELECT ${target.schoolId}, ${target.deviceId}::uuid, t.record_id, t.user_id, t.measured_at, t.temperature, t.sensor, ${target.sessionId}::uuid
      FROM (SELECT DISTINCT ON (t.record_id) t.* FROM t JOIN keys k ON k.record_id = t.record_id ORDER BY t.record_id, t.ord) t
      ORDER BY t.ord
      RETURNING id, record_id, user_id, measured_at, temperature
    ), fevers AS (
      INSERT INTO fever_events (school_id, user_id, device_id, source, record_id, temperature, occurred_at, reading_id)
      SELECT ${target.schoolId}, user_id, ${target.deviceId}::uuid, 'sondes', record_id, temperature, measured_at, id
      FROM ins WHERE temperature >= ${target.feverThreshold}
    )
    SELECT id, record_id, user_id, measured_at, temperature::float8 AS temperature, temperature >= ${target.feverThreshold} AS fever
    FROM ins ORDER BY record_id
  `.execute(trx);
  return result.rows;
}

export interface StoredReading {
  user_id: number | null;
  measured_at: Date;
  temperature: number;
}

export async function storedReadings(trx: Trx, schoolId: number, deviceId: string, recordIds: readonly number[]): Promise<Map<number, StoredReading>> {
  if (recordIds.length === 0) return new Map();
  const rows = await sql<StoredReading & { record_id: number }>`
    SELECT record_id, user_id, measured_at, temperature::float8 AS temperature
    FROM readings WHERE school_id = ${schoolId} AND device_id = ${deviceId}::uuid AND record_id = ANY(${[...recordIds]}::bigint[])
  `.execute(trx);
  return new Map(rows.rows.map((r) => [Number(r.record_id), r]));
}

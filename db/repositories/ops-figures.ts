// Figures for the Prometheus metrics (api/http/metrics.ts, worker/metrics.ts), read from the tables
// at scrape time: the queue's jobs by state, devices by channel status and attention reason,
// data mart runs. Each is one grouped query over small tables or a partial index.
import { sql } from 'kysely';
import { CLOCK_SUSPECT_SKEW_SECONDS, SYNC_STATUS } from '../../shared/protocol/codes.js';
import type { AttentionThresholds } from '../../shared/devices/attention.js';
import type { DbOrTrx } from '../database.js';
import { IMPORT_QUEUE } from '../../shared/jobs.js';

export interface QueueFigure { queue: string; state: string; jobs: number; oldest_seconds: number | null }

/**
 * Jobs waiting (created, retry: waiting out a retry delay) or running (active), by queue, with
 * the age of the oldest. pg-boss's own table: read with plain SQL, only these three states,
 * which its fetch index covers (completed and failed jobs are kept for days). A pending
 * session, v4 or PUSH, is its import's queue entry (worker/import/session-queue.ts): those count
 * for `import-batch` (IMPORT_QUEUE), as `retry` while they wait out the delay after a failed attempt (its error is
 * in `failure`), else as `created` (including the ones being imported at this moment, which
 * only their row lock tells apart: their claim set `retry_at` too).
 */
export async function queueFigures(db: DbOrTrx): Promise<QueueFigure[]> {
  const result = await sql<QueueFigure>`
    SELECT queue, state, sum(jobs)::int AS jobs, max(oldest_seconds)::float8 AS oldest_seconds FROM (
      SELECT name AS queue, state::text AS state, count(*) AS jobs, extract(epoch FROM now() - min(created_on)) AS oldest_seconds
      FROM pgboss.job WHERE state IN ('created', 'retry', 'active') GROUP BY name, state
      UNION ALL
      SELECT ${IMPORT_QUEUE}, CASE WHEN retry_at > now() AND failure IS NOT NULL THEN 'retry' ELSE 'created' END, count(*), extract(epoch FROM now() - min(received_at))
      FROM sync_sessions WHERE processed_at IS NULL GROUP BY 2
    ) AS q GROUP BY queue, state`.execute(db);
  return result.rows;
}

export interface ChannelStatusFigure { channel: string; status: number; channels: number }

export async function channelStatusFigures(db: DbOrTrx): Promise<ChannelStatusFigure[]> {
  const result = await sql<ChannelStatusFigure>`
    SELECT st.channel, st.status, count(*)::int AS channels
    FROM sync_states st JOIN devices d ON d.id = st.device_id
    WHERE d.disabled_at IS NULL GROUP BY st.channel, st.status`.execute(db);
  return result.rows;
}

export interface DeviceFigures {
  enabled: number;
  disabled: number;
  /** Enabled devices with at least one reason (listDevicesNeedingAttention's rules). */
  needing_attention: number;
  stuck_processing: number;
  ack_overdue: number;
  silent: number;
  clock_off: number;
  address_changed: number;
  address_conflict: number;
}

export async function deviceFigures(db: DbOrTrx, t: AttentionThresholds): Promise<DeviceFigures> {
  const result = await sql<DeviceFigures>`
    WITH d AS (
      SELECT devices.disabled_at IS NULL AS enabled,
        EXISTS (SELECT 1 FROM sync_states st WHERE st.device_id = devices.id AND st.status = ${SYNC_STATUS.processing}
                AND st.changed_at < now() - make_interval(secs => ${t.syncStuckAfterSeconds})) AS stuck_processing,
        EXISTS (SELECT 1 FROM sync_states st WHERE st.device_id = devices.id AND st.status = ${SYNC_STATUS.ready}
                AND st.changed_at < now() - make_interval(secs => ${t.ackStuckAfterSeconds})) AS ack_overdue,
        coalesce(devices.last_seen_at < now() - make_interval(secs => devices.sync_interval_seconds), false) AS silent,
        coalesce(abs(devices.clock_skew_seconds) > ${CLOCK_SUSPECT_SKEW_SECONDS}, false) AS clock_off,
        devices.address_alert IS NOT DISTINCT FROM 'address_changed' AS address_changed,
        devices.address_alert IS NOT DISTINCT FROM 'address_conflict' AS address_conflict
      FROM devices)
    SELECT count(*) FILTER (WHERE enabled)::int AS enabled,
           count(*) FILTER (WHERE NOT enabled)::int AS disabled,
           count(*) FILTER (WHERE enabled AND (stuck_processing OR ack_overdue OR silent OR clock_off OR address_changed OR address_conflict))::int AS needing_attention,
           count(*) FILTER (WHERE enabled AND stuck_processing)::int AS stuck_processing,
           count(*) FILTER (WHERE enabled AND ack_overdue)::int AS ack_overdue,
           count(*) FILTER (WHERE enabled AND silent)::int AS silent,
           count(*) FILTER (WHERE enabled AND clock_off)::int AS clock_off,
           count(*) FILTER (WHERE enabled AND address_changed)::int AS address_changed,
           count(*) FILTER (WHERE enabled AND address_conflict)::int AS address_conflict
    FROM d`.execute(db);
  return result.rows[0];
}

export interface DatamartFigures { runs: Array<{ status: string; runs: number }>; last_success_seconds: number | null }

export async function datamartFigures(db: DbOrTrx): Promise<DatamartFigures> {
  const runs = await sql<{ status: string; runs: number }>`SELECT status, count(*)::int AS runs FROM datamart_runs GROUP BY status`.execute(db);
  const last = await sql<{ at: number | null }>`
    SELECT extract(epoch FROM max(finished_at))::float8 AS at FROM datamart_runs WHERE status = 'done'`.execute(db);
  return { runs: runs.rows, last_success_seconds: last.rows[0]?.at ?? null };
}

export interface PushFigures {
  /** Registered terminals by state; held: calling from an address staff have not confirmed. */
  terminals: { registered: number; disabled: number; held: number; pending: number };
  /** Commands not finished yet, by status (queued, sent: waiting for the terminal's result). */
  commands: Array<{ status: string; commands: number }>;
}

/** PUSH terminals by state and their open commands (the partial index push_commands_open). */
export async function pushFigures(db: DbOrTrx): Promise<PushFigures> {
  const terminals = await sql<PushFigures['terminals']>`
    SELECT count(*) FILTER (WHERE d.disabled_at IS NULL)::int AS registered,
           count(*) FILTER (WHERE d.disabled_at IS NOT NULL)::int AS disabled,
           count(*) FILTER (WHERE d.disabled_at IS NULL AND t.claimed_address IS NOT NULL)::int AS held,
           -- Pending terminals are in the directory only (no school yet).
           (SELECT count(*) FROM push_serials WHERE school_id IS NULL)::int AS pending
    FROM push_terminals t JOIN devices d ON d.school_id = t.school_id AND d.id = t.device_id`.execute(db);
  const commands = await sql<{ status: string; commands: number }>`
    SELECT status, count(*)::int AS commands FROM push_commands WHERE status IN ('queued', 'sent') GROUP BY status`.execute(db);
  return { terminals: terminals.rows[0], commands: commands.rows };
}

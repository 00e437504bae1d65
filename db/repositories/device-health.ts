// Device health for the backoffice: each channel's status flag and last acknowledged sync, and
// the devices that need attention: an import stuck in status 1, a package left unacknowledged
// in status 2, silent for longer than its sync interval, its clock off, or a PUSH terminal's calls
// held from an address it is not bound to (shared/devices/attention.ts).
import { sql } from 'kysely';
import { CLOCK_SUSPECT_SKEW_SECONDS, SYNC_STATUS } from '../../shared/protocol/codes.js';
import type { AttentionThresholds } from '../../shared/devices/attention.js';
import type { DbOrTrx } from '../database.js';
import { DEVICE_PUBLIC, type PublicDevice } from './devices.js';

export interface ChannelHealth {
  device_id: string;
  channel: string;
  status: number;
  session_id: string | null;
  changed_at: Date;
  /** The last session of this channel imported and acknowledged. */
  last_acknowledged_at: Date | null;
  /** Status 2 for longer than the configured time: the device does not acknowledge. */
  ack_overdue: boolean;
  /** Status 1 for longer than SYNC_STUCK_AFTER_SECONDS: the import is stuck. */
  processing_overdue: boolean;
}

/** `schoolId`: the devices' one school, or null for a back-office page over several schools. */
export async function channelHealth(db: DbOrTrx, schoolId: number | null, deviceIds: readonly string[], t: AttentionThresholds): Promise<ChannelHealth[]> {
  if (deviceIds.length === 0) return [];
  let q = db.selectFrom('sync_states as st')
    .select(['st.device_id', 'st.channel', 'st.status', 'st.session_id', 'st.changed_at'])
    .select((eb) => [
      eb.selectFrom('sync_sessions as se').select('se.acked_at')
        .whereRef('se.device_id', '=', 'st.device_id').whereRef('se.channel', '=', 'st.channel')
        .where('se.outcome', 'in', ['imported', 'partial']).where('se.acked_at', 'is not', null)
        .orderBy('se.received_at', 'desc').limit(1).as('last_acknowledged_at'),
      sql<boolean>`st.status = 2 AND st.changed_at < now() - make_interval(secs => ${t.ackStuckAfterSeconds})`.as('ack_overdue'),
      sql<boolean>`st.status = 1 AND st.changed_at < now() - make_interval(secs => ${t.syncStuckAfterSeconds})`.as('processing_overdue'),
    ])
    .where('st.device_id', 'in', [...deviceIds])
    .orderBy('st.device_id').orderBy('st.channel');
  if (schoolId !== null) q = q.where('st.school_id', '=', schoolId);
  return q.execute() as Promise<ChannelHealth[]>;
}

/**
 * Enabled devices with at least one attention reason, by id (keyset): a channel in status 1 or 2
 * for too long, silent (last seen longer ago than its sync interval), or a clock off by more
 * than the protocol's suspect threshold. The same rules as `attentionReasons`.
 */
export async function listDevicesNeedingAttention(db: DbOrTrx, opts: { schoolId: number | null; afterId: string | null; limit: number } & AttentionThresholds): Promise<PublicDevice[]> {
  let q = db.selectFrom('devices').select(DEVICE_PUBLIC)
    .where('devices.disabled_at', 'is', null)
    .where(({ or, exists, selectFrom }) => or([
      exists(selectFrom('sync_states as st').select('st.device_id')
        .whereRef('st.school_id', '=', 'devices.school_id').whereRef('st.device_id', '=', 'devices.id')
        .where(sql<boolean>`((st.status = ${SYNC_STATUS.processing} AND st.changed_at < now() - make_interval(secs => ${opts.syncStuckAfterSeconds}))
          OR (st.status = ${SYNC_STATUS.ready} AND st.changed_at < now() - make_interval(secs => ${opts.ackStuckAfterSeconds})))`)),
      sql<boolean>`devices.last_seen_at < now() - make_interval(secs => devices.sync_interval_seconds)`,
      sql<boolean>`abs(devices.clock_skew_seconds) > ${CLOCK_SUSPECT_SKEW_SECONDS}`,
      sql<boolean>`devices.address_alert IS NOT NULL`,
    ]))
    .orderBy('devices.id').limit(opts.limit);
  if (opts.schoolId !== null) q = q.where('devices.school_id', '=', opts.schoolId);
  if (opts.afterId !== null) q = q.where('devices.id', '>', opts.afterId);
  return q.execute();
}

export async function reportedSettings(db: DbOrTrx, schoolId: number, deviceId: string): Promise<Record<string, string> | null> {
  const row = await db.selectFrom('devices').select('reported_settings').where('school_id', '=', schoolId).where('id', '=', deviceId).executeTakeFirst();
  return row?.reported_settings ?? null;
}

// Why a device needs a person's attention, as a list of reason codes the dashboard shows with
// a remedy each. Pure: the device row, its channels and the thresholds in, the reasons out.
// listDevicesNeedingAttention (db/repositories/device-health.ts) filters by the same rules in SQL.
import { CLOCK_SUSPECT_SKEW_SECONDS, SYNC_STATUS } from '../protocol/codes.js';

export const ATTENTION_REASONS = ['stuck_processing', 'ack_overdue', 'silent', 'clock_off', 'address_changed', 'address_conflict'] as const;
export type AttentionReason = (typeof ATTENTION_REASONS)[number];

export interface AttentionThresholds {
  /** Status 1 (a batch being imported) for longer than this: the import is stuck (SYNC_STUCK_AFTER_SECONDS). */
  syncStuckAfterSeconds: number;
  /** Status 2 (a package waiting) for longer than this: the device does not acknowledge (ACK_STUCK_AFTER_SECONDS). */
  ackStuckAfterSeconds: number;
}

export interface AttentionInput {
  disabled_at: Date | null;
  last_seen_at: Date | null;
  sync_interval_seconds: number;
  clock_skew_seconds: number | null;
  /** PUSH terminals: calls held from an address it is not bound to, or from two at once (db/repositories/push/terminal-address.ts recordAddressClaim). */
  address_alert?: 'address_changed' | 'address_conflict' | null;
  channels: ReadonlyArray<{ status: number; changed_at: Date }>;
}

/** A disabled device is off on purpose: it never needs attention. A device never seen is new, not silent. */
export function attentionReasons(d: AttentionInput, t: AttentionThresholds, now: Date): AttentionReason[] {
  if (d.disabled_at !== null) return [];
  const olderThan = (at: Date, seconds: number) => now.getTime() - at.getTime() > seconds * 1000;
  const reasons: AttentionReason[] = [];
  if (d.channels.some((c) => c.status === SYNC_STATUS.processing && olderThan(c.changed_at, t.syncStuckAfterSeconds))) reasons.push('stuck_processing');
  if (d.channels.some((c) => c.status === SYNC_STATUS.ready && olderThan(c.changed_at, t.ackStuckAfterSeconds))) reasons.push('ack_overdue');
  if (d.last_seen_at !== null && olderThan(d.last_seen_at, d.sync_interval_seconds)) reasons.push('silent');
  if (d.clock_skew_seconds !== null && Math.abs(d.clock_skew_seconds) > CLOCK_SUSPECT_SKEW_SECONDS) reasons.push('clock_off');
  if (d.address_alert) reasons.push(d.address_alert);
  return reasons;
}

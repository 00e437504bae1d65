// The API shapes the dashboard reads (GET /api/openapi.json is the reference).
export interface School { id: number; name: string; timezone: string; fever_threshold: number; school_days: number[]; day_end: string }

export type Period = 'day' | 'week' | 'month';
export interface Bucket { start: string; end: string; present: number; absent: number; total: number; final: boolean; school_day?: boolean }
export interface PendingDevice { id: string; name: string; complete_until: string; last_synced_at: string | null }
export interface Figures {
  school_id: number; period: Period; from: string; to: string; timezone: string; today: string; complete_until: string;
  pending_devices: PendingDevice[]; buckets: Bucket[];
  users?: Array<{ user_id: number; name: string | null; badge: string | null; statuses: Array<'present' | 'absent' | null> }>;
  generated_at: string;
}
export interface PresenceNow { count: number; as_of: string; today: string; items: Array<{ user_id: number; name: string; badge: string; since: string }> }
export interface FeverAlert { id: number; school_id: number; user_id: number | null; user_name: string | null; device_id: string | null; source: string; temperature: number; occurred_at: string }

export interface ChannelHealth { status: 0 | 1 | 2; session_id: string | null; changed_at: string; last_acknowledged_at: string | null; ack_overdue: boolean; processing_overdue: boolean }
export type AttentionReason = 'stuck_processing' | 'ack_overdue' | 'silent' | 'clock_off';
export interface Device {
  id: string; school_id: number; name: string; kind: 'terminal' | 'mobile'; disabled_at: string | null; sync_interval_seconds: number;
  last_seen_at: string | null; last_synced_at: string | null; clock_skew_seconds: number | null; firmware: string | null; pending_records: number | null;
  channels: Record<string, ChannelHealth>; pending_flags: string[]; last_successful_sync_at: string | null;
  complete_until: string; behind_since: string | null; attention_reasons: AttentionReason[]; needs_attention: boolean;
}
export interface Flag {
  id: number; device_id: string; name: string; params: Record<string, unknown>; state: 'pending' | 'delivered' | 'applied' | 'cancelled' | 'expired';
  set_at: string; set_by_email: string | null; expires_at: string | null; delivered_at: string | null; applied_at: string | null; cancelled_at: string | null;
}
export interface Session {
  id: string; device_id: string; channel: string; state: 'processing' | 'ready' | 'acknowledged' | 'closed'; outcome: string | null;
  received_at: string; processed_at: string | null; acknowledged_at: string | null; clock_skew_seconds: number | null;
  counts: { received: number; accepted: number; duplicates: number; rejected: number }; rejection_count: number;
}
export interface Rejection { id: number; file: string; line: number; record_id: string | null; code: string }
export interface Job { id: number; school_id: number; from: string; to: string; chunks_total: number; chunks_done: number; chunks_failed: number; days_changed: number; status: 'running' | 'done' | 'failed' }
export interface Page<T> { items: T[]; next_cursor: string | null }
export interface User { id: number; school_id: number; name: string; badge: string; enrolled_on: string; deleted_at: string | null }
export interface Attendance {
  id: number; school_id: number; user_id: number; device_id: string | null; record_id: number | null; type: 'checkin' | 'checkout';
  occurred_at: string; temperature: number | null; photo: string | null; clock_suspect: boolean;
}

export type DatamartEntity = 'schools' | 'persons' | 'attendance_days';
export type StepStatus = 'running' | 'done' | 'failed';
export interface DatamartRun {
  id: number; trigger: 'schedule' | 'manual'; requested_by: number | null; status: 'queued' | 'running' | 'done' | 'failed';
  requested_window: { from: string | null; to: string | null } | null; window: { from: string | null; to: string | null };
  rows_collected: number; rows_exported: number; uploads: { processing: number; accepted: number; rejected: number; failed: number };
  error: string | null; created_at: string; started_at: string | null; collected_at: string | null; finished_at: string | null;
}
export interface DatamartSubstage { id: number; seq: number; status: StepStatus; rows: number; started_at: string; finished_at: string | null; error: string | null }
export interface DatamartStage {
  id: number; seq: number; kind: 'collect' | 'export'; entity: DatamartEntity; operation: 'upsert' | 'delete' | null; status: StepStatus;
  rows: number; started_at: string; finished_at: string | null; error: string | null; substages: DatamartSubstage[];
}
export interface DatamartUpload {
  id: number; substage_id: number; entity: DatamartEntity; operation: 'upsert' | 'delete'; file_name: string; rows: number; bytes: number;
  remote_id: string | null; status: 'processing' | 'accepted' | 'rejected' | 'failed'; errors: unknown[]; attempts: number;
  created_at: string; checked_at: string | null; finished_at: string | null;
}
/** The detail replaces the upload counts with the uploads themselves. */
export interface DatamartRunDetail extends Omit<DatamartRun, 'uploads'> { stages: DatamartStage[]; uploads: DatamartUpload[] }

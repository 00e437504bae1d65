import type { Generated, JSONColumnType } from 'kysely';

export interface AuthThrottleTable {
  key: string;
  failures: number;
  window_started_at: Date;
  blocked_until: Date | null;
}

export interface IdempotencyKeysTable {
  staff_id: number;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: JSONColumnType<object>;
  created_at: Generated<Date>;
}

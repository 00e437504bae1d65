import type { Generated, JSONColumnType } from 'kysely';

export interface AuthThrottleTable {
  key: string;
  failures: number;
  window_started_at: Date;
  blocked_until: Date | null;
}

/** A credential (staff:<email>, device:<id>) that signed in from an address. */
export interface AuthKnownSourcesTable {
  credential: string;
  address: string;
  last_success_at: Generated<Date>;
}

export interface IdempotencyKeysTable {
  staff_id: number;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: JSONColumnType<object>;
  created_at: Generated<Date>;
}

/** A one-time password reset link: only the hash of its token is kept. */
export interface PasswordResetsTable {
  id: Generated<number>;
  staff_id: number;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  issued_by: number | null;
  created_at: Generated<Date>;
}

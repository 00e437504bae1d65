// PostgreSQL errors mapped in one place (central-backend's postgresErrorToProblem).
import { Problem } from '../../shared/errors.js';

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
  detail?: string;
}

export function pgErrorToProblem(err: unknown): Problem | null {
  const e = err as PgError;
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  switch (e.code) {
    case '23505':
      return new Problem('already_exists', `A record with the same ${constraintField(e.constraint)} already exists`);
    case '23503':
      return new Problem('validation_failed', 'A referenced record does not exist', {
        errors: [{ field: constraintField(e.constraint), message: 'does not exist' }],
      });
    case '23502':
      return new Problem('validation_failed', 'A required field is missing', { errors: [{ field: e.column ?? 'unknown', message: 'required' }] });
    case '23514':
    case '22P02':
    case '22007':
    case '22008':
    case '22003':
      return new Problem('validation_failed', 'A value is out of range or malformed', { errors: [] });
    default:
      return null;
  }
}

function constraintField(constraint: string | undefined): string {
  if (!constraint) return 'key';
  // users_school_id_badge_key → school_id, badge ; staff_email → email
  const known: Record<string, string> = {
    users_school_id_badge_key: 'badge',
    staff_email: 'email',
    attendances_device_record: 'record_id',
  };
  return known[constraint] ?? constraint;
}

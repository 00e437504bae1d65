// PostgreSQL errors mapped in one place (central-backend's postgresErrorToProblem).
import { Problem } from '../../shared/errors.js';
import { nulCharacterProblem } from './nul-character.js';

interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
  detail?: string;
}

/** Seconds a caller is told to wait when the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 10;

// The database is down, restarting or out of connections: nothing the caller did wrong and
// nothing to show them (the message holds its address and the driver's words); the log keeps it.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  '57P01', '57P02', '57P03', '53300']);
const UNREACHABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|connection is closed/i;

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object' || depth > 3) return false;
  if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
  if (typeof e.message === 'string' && UNREACHABLE_MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

export function databaseUnavailable(): Problem {
  return new Problem('service_unavailable', 'The database cannot be reached at the moment; try again later', {},
    { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) });
}

export function pgErrorToProblem(err: unknown): Problem | null {
  if (isDatabaseUnavailable(err)) return databaseUnavailable();
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
    case '22021': // a NUL byte in text: the guard at the door (nul-character.ts) misses a way in
    case '22P05': // \u0000 in jsonb
      return nulCharacterProblem();
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

// The entities exported to the regional data mart, each described once: its fields in file
// order with their type and whether they are required, its primary key and its foreign keys.
// Ids (the primary key and every foreign key) carry DATAMART_ID_PREFIX so they stay unique
// across the products that feed the same mart.

/**
 * The files' format version, sent with every upload (`version`). 2 (issue #28): schools carry
 * their attendance rules, attendance days their status, lateness, mark and corrections.
 */
export const DATAMART_FORMAT_VERSION = 2;

export type EntityName = 'schools' | 'persons' | 'attendance_days';
export type FieldType = 'id' | 'string' | 'integer' | 'boolean' | 'date' | 'timestamp' | 'list';

export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
  /** A foreign key: the entity whose `id` this field holds. */
  references?: EntityName;
}

export interface EntitySpec {
  name: EntityName;
  primaryKey: 'id';
  fields: readonly FieldSpec[];
}

const id = (name: string, references?: EntityName): FieldSpec => ({ name, type: 'id', required: true, ...(references && { references }) });

export const SCHOOLS: EntitySpec = {
  name: 'schools',
  primaryKey: 'id',
  fields: [
    id('id'),
    { name: 'name', type: 'string', required: true },
    { name: 'timezone', type: 'string', required: true },
    { name: 'school_days', type: 'list', required: true },
    { name: 'day_end', type: 'string', required: true },
    { name: 'attendance_threshold', type: 'integer', required: true },
    { name: 'late_after', type: 'string', required: false },
    { name: 'records_from', type: 'date', required: false },
  ],
};

export const PERSONS: EntitySpec = {
  name: 'persons',
  primaryKey: 'id',
  fields: [
    id('id'),
    id('school_id', 'schools'),
    { name: 'name', type: 'string', required: true },
    { name: 'badge', type: 'string', required: true },
    { name: 'enrolled_on', type: 'date', required: true },
    { name: 'active', type: 'boolean', required: true },
    { name: 'deactivated_at', type: 'timestamp', required: false },
  ],
};

export const ATTENDANCE_DAYS: EntitySpec = {
  name: 'attendance_days',
  primaryKey: 'id',
  fields: [
    id('id'),
    id('person_id', 'persons'),
    id('school_id', 'schools'),
    { name: 'date', type: 'date', required: true },
    { name: 'present', type: 'boolean', required: true },
    { name: 'seconds', type: 'integer', required: true },
    { name: 'first_checkin_at', type: 'timestamp', required: false },
    { name: 'anomalies', type: 'list', required: false },
    { name: 'status', type: 'string', required: true },
    { name: 'counted', type: 'boolean', required: true },
    { name: 'late', type: 'boolean', required: true },
    { name: 'mark', type: 'string', required: false },
    { name: 'mark_reason', type: 'string', required: false },
    { name: 'mark_conflict', type: 'string', required: false },
    { name: 'marked_by', type: 'list', required: false },
    { name: 'corrections', type: 'integer', required: true },
    { name: 'corrected_by', type: 'list', required: false },
  ],
};

/** Referenced entities first: the order upserts are collected and sent in (deletes go in reverse). */
export const ENTITIES: readonly EntitySpec[] = [SCHOOLS, PERSONS, ATTENDANCE_DAYS];

export function entitySpec(name: EntityName): EntitySpec {
  const spec = ENTITIES.find((e) => e.name === name);
  if (!spec) throw new Error(`unknown data mart entity ${name}`);
  return spec;
}

/** The id an entity's local key has in the mart. */
export function martId(prefix: string, localId: string | number): string {
  return `${prefix}${localId}`;
}

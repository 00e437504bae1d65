// `device.xml` (docs/protocol/v4.md §4), required in every upload on every channel. Each field is
// optional: a missing or empty element reads as null. Unknown elements are ignored so newer
// firmware can add fields; a known field given twice, holding elements, or with a bad value
// makes the whole file `xml_invalid`.

import { FileError } from '../protocol/file-error.js';
import { parseIsoTimestamp } from '../protocol/iso-timestamp.js';
import { assertElementOnly, leafText, parseSafeXml, type XmlElement } from './safe-xml.js';

export interface DeviceReport {
  firmware: string | null;
  clock: Date | null;
  timezone: string | null;
  pendingRecords: number | null;
  rosterVersion: number | null;
}

const MAX_DEVICE_XML_BYTES = 64 * 1024;
/** Printable text without control characters, as firmware versions are. */
const FIRMWARE = /^[\p{L}\p{N}\p{P}\p{S} ]{1,64}$/u;
/** IANA zone names (`Asia/Ho_Chi_Minh`, `Etc/GMT+7`, `UTC`): checked by shape, not against our tz data. */
const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;
const NON_NEGATIVE_INT = /^[0-9]{1,15}$/;

const FIELDS = ['firmware', 'clock', 'timezone', 'pending_records', 'roster_version'] as const;
type Field = (typeof FIELDS)[number];

function invalid(detail: string): FileError {
  return new FileError('xml_invalid', detail);
}

function nonNegativeInt(field: Field, text: string): number {
  if (!NON_NEGATIVE_INT.test(text)) throw invalid(`<${field}> must be a non-negative integer`);
  return Number(text);
}

/** Reads device.xml; throws FileError('xml_invalid') on bad XML, a wrong root or a bad field. */
export function parseDeviceXml(input: Buffer | string): DeviceReport {
  const root = parseSafeXml(input, { maxBytes: MAX_DEVICE_XML_BYTES });
  if (root.name !== 'device') throw invalid(`the root element is <${root.name}>, expected <device>`);
  assertElementOnly(root);

  const values = new Map<Field, string>();
  for (const child of root.children) {
    if (!(FIELDS as readonly string[]).includes(child.name)) continue;
    const field = child.name as Field;
    if (values.has(field)) throw invalid(`<${field}> appears more than once`);
    values.set(field, leafText(child as XmlElement).trim());
  }
  const get = (field: Field): string | null => {
    const value = values.get(field);
    return value === undefined || value === '' ? null : value;
  };

  const firmware = get('firmware');
  if (firmware !== null && !FIRMWARE.test(firmware)) throw invalid('<firmware> must be 1–64 printable characters');

  const clockText = get('clock');
  const clock = clockText === null ? null : parseIsoTimestamp(clockText);
  if (clockText !== null && clock === null) throw invalid('<clock> must be an ISO 8601 time with an offset or Z');

  const timezone = get('timezone');
  if (timezone !== null && (timezone.length > 64 || !TIMEZONE.test(timezone))) {
    throw invalid('<timezone> must be an IANA time zone name');
  }

  const pending = get('pending_records');
  const roster = get('roster_version');
  return {
    firmware,
    clock,
    timezone,
    pendingRecords: pending === null ? null : nonNegativeInt('pending_records', pending),
    rosterVersion: roster === null ? null : nonNegativeInt('roster_version', roster),
  };
}

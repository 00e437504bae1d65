// What the worker puts in an instruction package (docs/protocol/v4.md §5, §7), before it is written as
// `instructions.xml` by shared/xml/instructions-xml.ts. Times are Dates; the builder formats them.
// Repeating parts are optional arrays; `clock`, `roster` and `settings` appear at most once.

import type { FileErrorCode, RowRejectionCode } from './codes.js';

/** `<import …/>`: the counts for one CSV log of the batch. */
export interface ImportSummary {
  file: string;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Highest `record_id` the server holds for this log after the import; 0 when none (as in the manifest). */
  highWaterMark: number;
}

/** `<rejection …/>`: one row refused, by its physical line in the uploaded file (header = 1). */
export interface RowRejection {
  file: string;
  line: number;
  /** Omitted when the row had no readable record id. */
  recordId?: number | null;
  code: RowRejectionCode;
  /** `detail="…"`: what is wrong, the column and the value as sent (§4.5); left out when none. */
  detail?: string | null;
}

/** `<error …/>`: a whole file (or, with `processing_failed`, the whole batch) not imported. */
export interface FileErrorReport {
  /** Absent for `processing_failed`, which concerns the batch rather than one file. */
  file?: string | null;
  code: FileErrorCode;
  detail?: string | null;
  /** `retry="true"`: nothing was imported, the device sends the same rows again. */
  retry?: boolean;
}

/** `<clock …/>`: sent when the device clock is off by more than CLOCK_REPORT_SKEW_SECONDS. */
export interface ClockReport {
  serverTime: Date;
  /** Device clock minus server time, in whole seconds (negative: the device is behind). */
  skewSeconds: number;
}

/** `<roster …/>`: the roster file carried in the same package. */
export interface RosterReport {
  version: number;
  mode: 'delta' | 'full';
  file: string;
}

/** `<flag …/>`: a special sync flag (§6) delivered by this package. */
export interface FlagInstruction {
  id: number | string;
  name: string;
  /**
   * Flag parameters, written as attributes of `<flag>` (e.g. `since="2026-11-01"`). Names must be
   * `[a-z][a-z0-9_]*` and not `id`/`name`; values are written as text (Dates as ISO 8601).
   */
  params?: Readonly<Record<string, string | number | boolean | Date>>;
}

/** `<alert kind="fever" …/>` on `sondes` and `messagerie`. */
export interface FeverAlert {
  kind: 'fever';
  /** The reading's or check-in's record id on its device; null (left out) for one entered through the REST API. */
  recordId: number | null;
  /** Null when the person was not identified: the attribute is then left out. */
  userId: number | null;
  temperature: number;
  measuredAt: Date;
}

/** `<message …>text</message>` from the office, on `messagerie`. */
export interface OfficeMessage {
  id: number | string;
  priority: 'normal' | 'high';
  createdAt: Date;
  /** Null when the message does not expire: the attribute is then left out. */
  expiresAt: Date | null;
  text: string;
}

/** `<photo …/>` on `photos`: either stored (the device may delete it) or refused with a code. */
export type PhotoReport =
  | { name: string; sha256: string; stored: true }
  | { name: string; code: 'not_an_image' | 'too_large' };

export interface InstructionPackage {
  sessionId: string;
  generatedAt: Date;
  imports?: ImportSummary[];
  rejections?: RowRejection[];
  errors?: FileErrorReport[];
  clock?: ClockReport | null;
  roster?: RosterReport | null;
  /** Setting name → value; names must be `[a-z][a-z0-9_]{0,63}` (the settings.xml rule). */
  settings?: Readonly<Record<string, string>> | ReadonlyMap<string, string> | null;
  flags?: FlagInstruction[];
  alerts?: FeverAlert[];
  messages?: OfficeMessage[];
  photos?: PhotoReport[];
}

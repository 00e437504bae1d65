// The API shapes the dashboard reads, derived from the zod schemas the api validates and
// documents its responses with (GET /api/openapi.json is built from the same). Type-only
// imports: esbuild erases them, so no server code reaches the bundle (eslint.config.js keeps
// web/src to `import type`).
import type { z } from 'zod';
import type { alertSchema } from '../../api/routes/alerts.js';
import type { auditSchema } from '../../api/routes/audit.js';
import type { entrySchema, importSchema, schoolCalendarSchema } from '../../api/routes/calendars.js';
import type { runDetailSchema, runSchema, stageSchema, substageSchema, uploadSchema } from '../../api/routes/datamart.js';
import type { channelHealthSchema, deviceHealthSchema } from '../../api/routes/devices.js';
import type { bucketSchema, figuresSchema, presenceNowSchema, rebuildSchema } from '../../api/routes/figures.js';
import type { flagSchema } from '../../api/routes/flags.js';
import type { absentSchema, historySchema } from '../../api/routes/presence.js';
import type { heldGroupSchema } from '../../api/routes/held-punches.js';
import type { rejectionSchema, sessionSchema } from '../../api/routes/sessions.js';
import type { attendanceSchema, schoolSchema, staffSchema, userSchema } from '../../api/schemas/resources.js';
import type { importAnswer } from '../../api/routes/users.js';
import type { resetAnswer } from '../../api/routes/staff.js';
import type { withSecret } from '../../api/routes/devices.js';

type Out<T extends z.ZodType> = z.output<T>;

export type School = Out<typeof schoolSchema>;

export type Figures = Out<typeof figuresSchema>;
export type Period = Figures['period'];
export type Bucket = Out<typeof bucketSchema>;
export type PendingDevice = Figures['pending_devices'][number];
export type PresenceNow = Out<typeof presenceNowSchema>;
export type FeverAlert = Out<typeof alertSchema>;
export type AbsentToday = Out<typeof absentSchema>;
export type History = Out<typeof historySchema>;
export type HistoryDay = History['days'][number];
export type HistoryPeriod = NonNullable<History['periods']>[number];
/** Why a day is closed (the calendar's reason and label); null when open. */
export type Closed = HistoryDay['closed'];
export type Rule = Figures['rule'];

export type ChannelHealth = Out<typeof channelHealthSchema>;
export type Device = Out<typeof deviceHealthSchema>;
export type AttentionReason = Device['attention_reasons'][number];
export type Flag = Out<typeof flagSchema>;
export type Session = Out<typeof sessionSchema>;
export type Rejection = Out<typeof rejectionSchema>;
export type Job = Out<typeof rebuildSchema>;
/** Every list answers `{items, next_cursor}` (api/http/paging.ts). */
export interface Page<T> { items: T[]; next_cursor: string | null }
export type User = Out<typeof userSchema>;
export type Attendance = Out<typeof attendanceSchema>;
export type StaffAccount = Out<typeof staffSchema>;
export type RosterImport = Out<typeof importAnswer>;
export type RosterRow = RosterImport['rows'][number];
export type PasswordReset = Out<typeof resetAnswer>;
/** A device as registered or after a secret rotation: its secret and enrolment QR code, shown once. */
export type DeviceWithSecret = Out<typeof withSecret>;

export type DatamartRun = Out<typeof runSchema>;
export type DatamartStage = Out<typeof stageSchema>;
export type DatamartSubstage = Out<typeof substageSchema>;
export type DatamartUpload = Out<typeof uploadSchema>;
export type DatamartEntity = DatamartStage['entity'];
export type StepStatus = DatamartStage['status'];
/** The detail replaces the upload counts with the uploads themselves. */
export type DatamartRunDetail = Out<typeof runDetailSchema>;

export type SchoolCalendar = Out<typeof schoolCalendarSchema>;
export type CalendarEntry = Out<typeof entrySchema>;
export type EntryKind = CalendarEntry['kind'];
export type CalendarImport = Out<typeof importSchema>;
export type AuditEntry = Out<typeof auditSchema>;

/** A group of held punches (one device, PIN and reason): GET /api/schools/:id/held-punches. */
export type HeldGroup = Out<typeof heldGroupSchema>;

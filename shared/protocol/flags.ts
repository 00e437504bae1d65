// The special sync flags of docs/protocol/v4.md §6 in one place: their names, what parameters each
// takes (zod schemas, used by the api to answer 422 listing the known flags) and how each is
// delivered. Nothing else in the code base spells a flag's parameters.
import { z } from 'zod';
import { MAX_SETTING_VALUE_LENGTH, MAX_SETTINGS, SETTING_NAME } from './settings.js';

export const FLAG_NAMES = [
  'FULL_RESYNC',
  'RESEND_SINCE',
  'RELOAD_ROSTER',
  'REPORT_SETTINGS',
  'SET_SETTINGS',
  'PURGE_CONFIRMED_LOGS',
  'REBOOT',
  'RESET_SESSION',
] as const;
export type FlagName = (typeof FLAG_NAMES)[number];

export function isFlagName(value: string): value is FlagName {
  return (FLAG_NAMES as readonly string[]).includes(value);
}

const noParams = z.strictObject({});

/** A calendar day 'YYYY-MM-DD' that exists. */
const calendarDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').refine((s) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}, 'not a calendar date');

/** Setting values travel as text (settings.xml); numbers and booleans are written as they print. */
const settingValue = z.union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v))
  .refine((v) => [...v].length <= MAX_SETTING_VALUE_LENGTH, `at most ${MAX_SETTING_VALUE_LENGTH} characters`);

export const FLAG_PARAMS = {
  FULL_RESYNC: noParams,
  /** `since`: a day in the school's time zone; the resend starts at its first instant. */
  RESEND_SINCE: z.strictObject({ since: calendarDay }),
  RELOAD_ROSTER: noParams,
  REPORT_SETTINGS: noParams,
  SET_SETTINGS: z.record(z.string().regex(SETTING_NAME, 'setting names match [a-z][a-z0-9_]{0,63}'), settingValue)
    .refine((s) => Object.keys(s).length >= 1, 'name at least one setting')
    .refine((s) => Object.keys(s).length <= MAX_SETTINGS, `at most ${MAX_SETTINGS} settings`),
  PURGE_CONFIRMED_LOGS: noParams,
  REBOOT: noParams,
  RESET_SESSION: noParams,
} as const satisfies Record<FlagName, z.ZodType>;

export type FlagParams = { [N in FlagName]: z.output<(typeof FLAG_PARAMS)[N]> };

/** How the catalogue is described to a caller who named an unknown flag or bad parameters. */
export const KNOWN_FLAGS: ReadonlyArray<{ name: FlagName; params: string }> = [
  { name: 'FULL_RESYNC', params: '{}' },
  { name: 'RESEND_SINCE', params: '{"since": "YYYY-MM-DD"} (a past day, in the school\'s time zone)' },
  { name: 'RELOAD_ROSTER', params: '{}' },
  { name: 'REPORT_SETTINGS', params: '{}' },
  { name: 'SET_SETTINGS', params: '{"<setting_name>": "<value>", ...} (names [a-z][a-z0-9_]{0,63})' },
  { name: 'PURGE_CONFIRMED_LOGS', params: '{}' },
  { name: 'REBOOT', params: '{}' },
  { name: 'RESET_SESSION', params: '{} (acts at once on the server)' },
];

export type ParsedFlag = { ok: true; name: FlagName; params: Record<string, unknown> } | { ok: false; errors: Array<{ field: string; message: string }> };

/** Checks a flag name and its parameters against the catalogue; `field` prefixes the error paths. */
export function parseFlag(name: string, params: unknown, field = 'body'): ParsedFlag {
  if (!isFlagName(name)) return { ok: false, errors: [{ field: `${field}.name`, message: `unknown flag; known flags: ${FLAG_NAMES.join(', ')}` }] };
  const result = FLAG_PARAMS[name].safeParse(params ?? {});
  if (!result.success) {
    return {
      ok: false,
      errors: result.error.issues.map((i) => ({ field: [`${field}.params`, ...i.path.map(String)].join('.'), message: i.message })),
    };
  }
  return { ok: true, name, params: result.data as Record<string, unknown> };
}

/** RESET_SESSION acts on the server when set: it is never pending and never delivered. */
export const SERVER_SIDE_FLAGS: ReadonlySet<FlagName> = new Set(['RESET_SESSION']);

/** RESEND_SINCE windows (docs/protocol/v4.md §6): at most 31 days (of 24 h), one per sync. */
export const RESEND_WINDOW_DAYS = 31;
export const RESEND_WINDOW_MS = RESEND_WINDOW_DAYS * 86_400_000;

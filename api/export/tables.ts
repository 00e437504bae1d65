// The tables the api exports (issue #29 item 4), one definition each: the columns, their
// translated headers and their types. A column added here reaches the CSV and the XLSX alike
// (table-file.ts writes both).
import type { ExportColumn, ExportLang, ExportTable } from './table-file.js';

type T = Record<ExportLang, string>;
const col = <R>(en: string, fr: string, type: ExportColumn<R>['type'], value: (row: R) => unknown): ExportColumn<R> => ({ header: { en, fr }, type, value });

const STATUS: Record<string, T> = {
  present: { en: 'present', fr: 'présent' }, absent: { en: 'absent', fr: 'absent' }, excused: { en: 'excused', fr: 'excusé' },
};
const NO_DATA: T = { en: 'no data', fr: 'pas de données' };
const TYPE: Record<string, T> = { checkin: { en: 'check-in', fr: 'arrivée' }, checkout: { en: 'check-out', fr: 'départ' } };
const SOURCE: Record<string, T> = { attendance: { en: 'check-in', fr: 'pointage' }, sondes: { en: 'probe', fr: 'sonde' } };

interface SkippedDay { date: string; reason: string; label: string }
export interface FigureBucket {
  start: string; end: string; present: number; absent: number; total: number; final: boolean;
  open_days: number; skipped_days: SkippedDay[];
  /** Percent with one decimal; null when nothing is counted. */
  rate: number | null; late_days: number; excused_days: number; no_data: boolean;
}
export interface FiguresBody {
  period: 'day' | 'week' | 'month'; from: string; to: string; timezone: string;
  buckets: FigureBucket[];
  users?: Array<{ user_id: number; name: string | null; badge: string | null; statuses: Array<string | null>; counts: Array<{ open_days: number; days_present: number; rate: number | null } | null> }>;
}

/** One row per bucket: the figures table of the dashboard. */
export function figuresTable(f: FiguresBody): ExportTable<FigureBucket> {
  return {
    title: { en: 'Figures', fr: 'Chiffres' },
    timezone: f.timezone,
    rows: f.buckets,
    columns: [
      col('Period start', 'Début de période', 'date', (b) => b.start),
      col('Period end', 'Fin de période', 'date', (b) => b.end),
      // The rate first: what staff read before the verdicts (docs/DESIGN.md §4).
      col('Attendance rate', 'Taux de présence', 'percent', (b) => (b.rate === null ? null : b.rate / 100)),
      col('Present', 'Présents', 'integer', (b) => b.present),
      col('Absent', 'Absents', 'integer', (b) => b.absent),
      col('Total', 'Total', 'integer', (b) => b.total),
      col('Late days', 'Jours en retard', 'integer', (b) => b.late_days),
      col('Excused days', 'Jours excusés', 'integer', (b) => b.excused_days),
      col('No data yet', 'Pas encore de données', 'boolean', (b) => b.no_data),
      col('Open days', 'Jours ouverts', 'integer', (b) => b.open_days),
      col('Closed days', 'Jours fermés', 'text', (b) => [...new Set(b.skipped_days.filter((d) => d.reason !== 'not_begun' && d.reason !== 'not_a_school_day').map((d) => d.label))].join(', ')),
      col('Final', 'Définitif', 'boolean', (b) => b.final),
    ],
  };
}

type FigureUser = NonNullable<FiguresBody['users']>[number];

/** One row per pupil, one column per bucket: the verdicts ("present 4/5" for a week or month). */
export function figureUsersTable(f: FiguresBody, lang: ExportLang): ExportTable<FigureUser> {
  const label = (start: string) => (lang === 'fr' ? start.split('-').reverse().join('/') : start);
  return {
    title: { en: 'Pupils', fr: 'Élèves' },
    timezone: f.timezone,
    rows: f.users ?? [],
    columns: [
      col('User id', 'Identifiant', 'integer', (u) => u.user_id),
      col('Name', 'Nom', 'text', (u) => u.name),
      col('Badge', 'Badge', 'text', (u) => u.badge),
      ...f.buckets.map((b, i) => col<FigureUser>(label(b.start), label(b.start), 'text', (u) => {
        const s = u.statuses[i];
        if (!s) return b.no_data ? NO_DATA[lang] : ''; // before records_from: no verdict, never absent
        const c = u.counts[i];
        const word = STATUS[s]?.[lang] ?? s;
        if (f.period === 'day' || !c) return word;
        const rate = c.rate === null ? '' : ` (${lang === 'fr' ? `${String(c.rate).replace('.', ',')}\u00a0%` : `${c.rate}%`})`;
        return `${word} ${c.days_present}/${c.open_days}${rate}`;
      })),
    ],
  };
}

export interface AlertRow { occurred_at: Date; user_id: number | null; user_name: string | null; temperature: number; source: string; device_name: string | null }

export function alertsTable(rows: AlertRow[], timezone: string, lang: ExportLang): ExportTable<AlertRow> {
  return {
    title: { en: 'Fever alerts', fr: 'Alertes de fièvre' },
    timezone,
    rows,
    columns: [
      col('Time', 'Heure', 'datetime', (a) => a.occurred_at),
      col('User id', 'Identifiant', 'integer', (a) => a.user_id),
      col('Name', 'Nom', 'text', (a) => a.user_name),
      col('Temperature (°C)', 'Température (°C)', 'decimal', (a) => a.temperature),
      col('Source', 'Source', 'text', (a) => SOURCE[a.source]?.[lang] ?? a.source),
      col('Device', 'Appareil', 'text', (a) => a.device_name),
    ],
  };
}

export interface AttendanceRow { occurred_at: Date; user_id: number; type: string; temperature: number | null; device_name: string | null; photo: string | null; clock_suspect: boolean }

export function attendancesTable(rows: AttendanceRow[], timezone: string, lang: ExportLang): ExportTable<AttendanceRow> {
  return {
    title: { en: 'Attendances', fr: 'Pointages' },
    timezone,
    rows,
    columns: [
      col('Time', 'Heure', 'datetime', (a) => a.occurred_at),
      col('User id', 'Identifiant', 'integer', (a) => a.user_id),
      col('Type', 'Type', 'text', (a) => TYPE[a.type]?.[lang] ?? a.type),
      col('Temperature (°C)', 'Température (°C)', 'decimal', (a) => a.temperature),
      col('Device', 'Appareil', 'text', (a) => a.device_name),
      col('Photo', 'Photo', 'text', (a) => a.photo),
      col('Clock suspect', 'Horloge douteuse', 'boolean', (a) => a.clock_suspect),
    ],
  };
}

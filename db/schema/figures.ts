import type { Generated, Selectable } from 'kysely';

export interface FigureRebuildsTable {
  id: Generated<number>;
  school_id: number;
  from_date: string;
  to_date: string;
  chunks_total: number;
  chunks_done: Generated<number>;
  done_chunks: Generated<string[]>;
  chunks_failed: Generated<number>;
  days_changed: Generated<number>;
  requested_by: number | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}
export type FigureRebuild = Selectable<FigureRebuildsTable>;

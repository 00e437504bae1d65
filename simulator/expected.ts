// What the figures must say, computed from the events with the service's own pure rules
// (shared/attendance): pair each user's events per school-local day, then count per day.
import { aggregatePresence, type AggregateSchool, type AggregateUser, type BucketFigures } from '../shared/attendance/aggregate.js';
import { computeUserDay, groupByLocalDate, type Anomaly, type EventType } from '../shared/attendance/user-day.js';

export interface StoredEvent {
  userId: number;
  type: EventType;
  at: Date;
}

export interface ExpectedDays {
  buckets: BucketFigures[];
  anomalies: Record<Anomaly, number>;
}

export function expectedDayFigures(input: {
  school: AggregateSchool;
  users: readonly AggregateUser[];
  events: readonly StoredEvent[];
  from: string;
  to: string;
  now: Date;
}): ExpectedDays {
  const byUser = new Map<number, StoredEvent[]>();
  for (const e of input.events) {
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  const anomalies: Record<Anomaly, number> = { double_checkin: 0, orphan_checkout: 0, missing_checkout: 0 };
  const userDays = [];
  for (const [userId, events] of byUser) {
    for (const [date, dayEvents] of groupByLocalDate(events, input.school.timezone)) {
      const day = computeUserDay(dayEvents, { date, timezone: input.school.timezone, dayEnd: input.school.dayEnd, now: input.now });
      for (const a of day.anomalies) anomalies[a]++;
      userDays.push({ userId, date, seconds: day.seconds, openSince: day.openSince, checkedIn: day.firstCheckinAt !== null });
    }
  }
  // input.school.calendar (when given) decides the open days, as the service's figures do.
  const { buckets } = aggregatePresence({
    school: input.school, period: 'day', from: input.from, to: input.to, users: input.users, userDays, now: input.now, completeUntil: null,
  });
  return { buckets, anomalies };
}

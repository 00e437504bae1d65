// Day / ISO-week / month buckets, begun school days, and when a bucket is final.
import {
  begunSchoolDays,
  bucketEndInstant,
  bucketsFor,
  isFinal,
  schoolDaysBegun,
  spanOf,
  type Period,
} from '../../../shared/attendance/buckets.js';

const MON_FRI = [1, 2, 3, 4, 5];
const b = (start: string, end: string) => ({ start, end });

describe('bucketsFor', () => {
  test.each([
    { period: 'day', from: '2026-02-27', to: '2026-03-02', buckets: [b('2026-02-27', '2026-02-27'), b('2026-02-28', '2026-02-28'), b('2026-03-01', '2026-03-01'), b('2026-03-02', '2026-03-02')] },
    { period: 'day', from: '2028-02-28', to: '2028-03-01', buckets: [b('2028-02-28', '2028-02-28'), b('2028-02-29', '2028-02-29'), b('2028-03-01', '2028-03-01')] },
    { period: 'day', from: '2026-11-18', to: '2026-11-18', buckets: [b('2026-11-18', '2026-11-18')] },
    { period: 'week', from: '2026-11-18', to: '2026-11-25', buckets: [b('2026-11-16', '2026-11-22'), b('2026-11-23', '2026-11-29')] },
    { period: 'week', from: '2026-11-16', to: '2026-11-22', buckets: [b('2026-11-16', '2026-11-22')] },
    { period: 'week', from: '2026-11-22', to: '2026-11-23', buckets: [b('2026-11-16', '2026-11-22'), b('2026-11-23', '2026-11-29')] },
    { period: 'week', from: '2026-12-30', to: '2027-01-02', buckets: [b('2026-12-28', '2027-01-03')] },
    { period: 'week', from: '2026-12-27', to: '2027-01-04', buckets: [b('2026-12-21', '2026-12-27'), b('2026-12-28', '2027-01-03'), b('2027-01-04', '2027-01-10')] },
    { period: 'month', from: '2026-01-31', to: '2026-03-01', buckets: [b('2026-01-01', '2026-01-31'), b('2026-02-01', '2026-02-28'), b('2026-03-01', '2026-03-31')] },
    { period: 'month', from: '2028-02-10', to: '2028-02-10', buckets: [b('2028-02-01', '2028-02-29')] },
    { period: 'month', from: '2026-12-15', to: '2027-01-15', buckets: [b('2026-12-01', '2026-12-31'), b('2027-01-01', '2027-01-31')] },
    { period: 'week', from: '2026-11-19', to: '2026-11-18', buckets: [] },
  ] as Array<{ period: Period; from: string; to: string; buckets: Array<{ start: string; end: string }> }>)(
    '$period from $from to $to',
    ({ period, from, to, buckets }) => {
      expect(bucketsFor(period, from, to)).toEqual(buckets);
    },
  );

  test('rejects invalid dates', () => {
    expect(() => bucketsFor('day', '2026-02-30', '2026-03-01')).toThrow(RangeError);
    expect(() => bucketsFor('month', '2026-01-01', 'soon')).toThrow(RangeError);
  });

  test('spanOf covers the whole buckets, beyond [from, to]', () => {
    expect(spanOf(bucketsFor('week', '2026-12-30', '2027-01-05'))).toEqual(b('2026-12-28', '2027-01-10'));
    expect(spanOf([])).toBeNull();
  });
});

describe('school days begun', () => {
  const week = b('2026-11-16', '2026-11-22');
  test.each([
    { bucket: week, days: MON_FRI, today: '2026-11-18', count: 3, why: 'Wednesday: Mon, Tue and today' },
    { bucket: week, days: MON_FRI, today: '2026-11-16', count: 1, why: 'Monday: today only' },
    { bucket: week, days: MON_FRI, today: '2026-11-15', count: 0, why: 'the week has not begun' },
    { bucket: week, days: MON_FRI, today: '2026-11-21', count: 5, why: 'Saturday: the whole school week' },
    { bucket: week, days: MON_FRI, today: '2027-01-01', count: 5, why: 'long past' },
    { bucket: week, days: [1, 2, 3, 4, 5, 6], today: '2026-11-22', count: 6, why: 'six-day school' },
    { bucket: b('2026-11-01', '2026-11-30'), days: MON_FRI, today: '2026-11-18', count: 13, why: 'November up to Wed 18th' },
    { bucket: b('2028-02-01', '2028-02-29'), days: MON_FRI, today: '2028-03-01', count: 21, why: 'leap February' },
    { bucket: b('2026-12-28', '2027-01-03'), days: MON_FRI, today: '2027-01-01', count: 5, why: 'week across the new year' },
  ])('$why → $count', ({ bucket, days, today, count }) => {
    expect(schoolDaysBegun(bucket, days, today)).toBe(count);
    expect(begunSchoolDays(bucket, days, today)).toHaveLength(count);
  });

  test('lists the dates, in order', () => {
    expect(begunSchoolDays(week, MON_FRI, '2026-11-18')).toEqual(['2026-11-16', '2026-11-17', '2026-11-18']);
  });
});

describe('bucket end and finality', () => {
  test.each([
    { bucket: b('2026-11-18', '2026-11-18'), tz: 'Europe/Paris', end: '2026-11-18T23:00:00.000Z' },
    { bucket: b('2026-03-28', '2026-03-28'), tz: 'Europe/Paris', end: '2026-03-28T23:00:00.000Z' },
    { bucket: b('2026-03-29', '2026-03-29'), tz: 'Europe/Paris', end: '2026-03-29T22:00:00.000Z' },
    { bucket: b('2026-10-25', '2026-10-25'), tz: 'Europe/Paris', end: '2026-10-25T23:00:00.000Z' },
    { bucket: b('2026-03-23', '2026-03-29'), tz: 'Europe/Paris', end: '2026-03-29T22:00:00.000Z' },
    { bucket: b('2026-12-28', '2027-01-03'), tz: 'America/New_York', end: '2027-01-04T05:00:00.000Z' },
  ])('$bucket.start..$bucket.end in $tz ends at $end', ({ bucket, tz, end }) => {
    expect(bucketEndInstant(bucket, tz).toISOString()).toBe(end);
  });

  const day = b('2026-11-18', '2026-11-18'); // ends 2026-11-18T23:00Z in Paris
  test.each([
    { completeUntil: null, tz: 'Europe/Paris', final: false, why: 'nothing known complete' },
    { completeUntil: '2026-11-18T23:00:00Z', tz: 'Europe/Paris', final: true, why: 'complete exactly up to the end' },
    { completeUntil: '2026-11-18T22:59:59.999Z', tz: 'Europe/Paris', final: false, why: '1 ms short' },
    { completeUntil: '2026-11-25T00:00:00Z', tz: 'Europe/Paris', final: true, why: 'well after' },
    { completeUntil: '2026-11-18T23:30:00Z', tz: 'America/New_York', final: false, why: 'the New York day ends at 05:00Z' },
  ])('$why → final $final', ({ completeUntil, tz, final }) => {
    expect(isFinal(day, completeUntil === null ? null : new Date(completeUntil), tz)).toBe(final);
  });

  test('the 25-hour day is final only once its 25th hour is complete', () => {
    const fallBack = b('2026-10-25', '2026-10-25');
    expect(isFinal(fallBack, new Date('2026-10-25T22:30:00Z'), 'Europe/Paris')).toBe(false);
    expect(isFinal(fallBack, new Date('2026-10-25T23:00:00Z'), 'Europe/Paris')).toBe(true);
  });
});

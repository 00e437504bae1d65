// Pairing one user's events of one school day: anomalies, day_end, today, DST, midnight, offsets.
import {
  computeUserDay,
  groupByLocalDate,
  secondsAt,
  type AttendanceEvent,
  type DayContext,
  type EventType,
} from '../../../shared/attendance/user-day.js';

const H = 3600;
const TZ = 'Europe/Paris';

/** `['08:00', 'checkin']` on a November date in Paris (+01:00). */
function on(date: string, offset = '+01:00') {
  return (time: string, type: EventType): AttendanceEvent => ({ at: new Date(`${date}T${time}:00${offset}`), type });
}

function ctx(date: string, now: string, dayEnd = '17:00'): DayContext {
  return { date, timezone: TZ, dayEnd, now: new Date(now) };
}

describe('pairing on a past day (Wednesday 2026-11-18, asked on Friday)', () => {
  const at = on('2026-11-18');
  const past = ctx('2026-11-18', '2026-11-20T10:00:00+01:00');
  const ev = (list: Array<[string, EventType]>) => list.map(([t, type]) => at(t, type));

  test.each([
    { name: 'normal day in two intervals', events: ev([['08:00', 'checkin'], ['12:00', 'checkout'], ['13:00', 'checkin'], ['17:30', 'checkout']]), seconds: 8.5 * H, anomalies: [] },
    { name: 'double check-in: the first stands', events: ev([['08:00', 'checkin'], ['09:00', 'checkin'], ['12:00', 'checkout']]), seconds: 4 * H, anomalies: ['double_checkin'] },
    { name: 'orphan check-out: ignored', events: ev([['07:00', 'checkout'], ['08:00', 'checkin'], ['12:00', 'checkout']]), seconds: 4 * H, anomalies: ['orphan_checkout'] },
    { name: 'two check-outs after one check-in: the second is orphan', events: ev([['08:00', 'checkin'], ['12:00', 'checkout'], ['12:05', 'checkout']]), seconds: 4 * H, anomalies: ['orphan_checkout'] },
    { name: 'missing check-out: closed at day_end', events: ev([['09:00', 'checkin']]), seconds: 8 * H, anomalies: ['missing_checkout'] },
    { name: 'missing check-out after a closed interval', events: ev([['08:00', 'checkin'], ['10:00', 'checkout'], ['16:00', 'checkin']]), seconds: 3 * H, anomalies: ['missing_checkout'] },
    { name: 'opened after day_end: not counted, still flagged', events: ev([['18:00', 'checkin']]), seconds: 0, anomalies: ['missing_checkout'] },
    { name: 'opened exactly at day_end: not counted', events: ev([['17:00', 'checkin']]), seconds: 0, anomalies: ['missing_checkout'] },
    { name: 'a closed interval after day_end counts in full', events: ev([['18:00', 'checkin'], ['19:00', 'checkout']]), seconds: 1 * H, anomalies: [] },
    {
      name: 'every anomaly, given out of order: reported once each, in a fixed order',
      events: ev([['16:00', 'checkin'], ['10:00', 'checkout'], ['08:30', 'checkin'], ['07:00', 'checkout'], ['08:00', 'checkin'], ['06:00', 'checkout']]),
      seconds: 2 * H + 1 * H,
      anomalies: ['double_checkin', 'orphan_checkout', 'missing_checkout'],
    },
    { name: 'no events', events: [], seconds: 0, anomalies: [] },
    { name: 'check-out only', events: ev([['12:00', 'checkout']]), seconds: 0, anomalies: ['orphan_checkout'] },
  ])('$name', ({ events, seconds, anomalies }) => {
    const day = computeUserDay(events, past);
    expect(day.seconds).toBe(seconds);
    expect(day.anomalies).toEqual(anomalies);
    expect(day.openSince).toBeNull(); // never open on a past day
    expect(secondsAt(day, past)).toBe(seconds);
  });

  test('first check-in and last event are taken in time order, not input order', () => {
    const day = computeUserDay(ev([['13:00', 'checkin'], ['17:30', 'checkout'], ['08:00', 'checkin'], ['12:00', 'checkout']]), past);
    expect(day.firstCheckinAt).toEqual(new Date('2026-11-18T08:00:00+01:00'));
    expect(day.lastEventAt).toEqual(new Date('2026-11-18T17:30:00+01:00'));
    expect(day.lastEventType).toBe('checkout');
    expect(day.seconds).toBe(8.5 * H);
  });

  test('no events: no first check-in, no last event', () => {
    expect(computeUserDay([], past)).toEqual({
      seconds: 0, firstCheckinAt: null, lastEventAt: null, lastEventType: null, openSince: null, anomalies: [],
    });
  });

  test.each([
    { order: ['checkin', 'checkout'] as EventType[], seconds: 0, anomalies: [], last: 'checkout' },
    { order: ['checkout', 'checkin'] as EventType[], seconds: 8 * H, anomalies: ['orphan_checkout', 'missing_checkout'], last: 'checkin' },
  ])('events at the same instant keep their input order: $order', ({ order, seconds, anomalies, last }) => {
    const day = computeUserDay(order.map((type) => at('09:00', type)), past);
    expect(day.seconds).toBe(seconds);
    expect(day.anomalies).toEqual(anomalies);
    expect(day.lastEventType).toBe(last);
  });

  test('seconds are whole, floored', () => {
    const day = computeUserDay([{ at: Date.parse('2026-11-18T08:00:00.000+01:00'), type: 'checkin' }, { at: Date.parse('2026-11-18T08:00:01.999+01:00'), type: 'checkout' }], past);
    expect(day.seconds).toBe(1);
  });

  test('an event of another local day is a caller bug and throws', () => {
    expect(() => computeUserDay([on('2026-11-19')('00:00', 'checkin')], past)).toThrow(RangeError);
    expect(() => computeUserDay([on('2026-11-17')('23:59', 'checkin')], past)).toThrow(RangeError);
    expect(() => computeUserDay([at('00:00', 'checkin'), at('23:59', 'checkout')], past)).not.toThrow();
  });
});

describe('today (Friday 2026-11-20)', () => {
  const at = on('2026-11-20');
  const today = (now: string) => ctx('2026-11-20', `2026-11-20T${now}:00+01:00`);

  test.each([
    { name: 'open since 08:00, asked at 11:00', events: [at('08:00', 'checkin')], now: '11:00', stored: 0, open: '08:00', live: 3 * H },
    { name: 'closed hour, then open since 09:00', events: [at('07:00', 'checkin'), at('08:00', 'checkout'), at('09:00', 'checkin')], now: '11:00', stored: 1 * H, open: '09:00', live: 3 * H },
    { name: 'still open after day_end counts up to now', events: [at('08:00', 'checkin')], now: '19:00', stored: 0, open: '08:00', live: 11 * H },
    { name: 'checked in after day_end', events: [at('18:00', 'checkin')], now: '19:30', stored: 0, open: '18:00', live: 1.5 * H },
    { name: 'device clock ahead: opened after now adds nothing yet', events: [at('12:00', 'checkin')], now: '11:00', stored: 0, open: '12:00', live: 0 },
    { name: 'all closed', events: [at('08:00', 'checkin'), at('10:00', 'checkout')], now: '11:00', stored: 2 * H, open: null, live: 2 * H },
  ])('$name', ({ events, now, stored, open, live }) => {
    const c = today(now);
    const day = computeUserDay(events, c);
    expect(day.seconds).toBe(stored); // stored row: closed intervals only
    expect(day.openSince).toEqual(open === null ? null : new Date(`2026-11-20T${open}:00+01:00`));
    expect(day.anomalies).toEqual([]); // no missing_checkout while the day is running
    expect(secondsAt(day, c)).toBe(live);
  });

  test('the stored row does not go stale: read later, it counts up to the new now', () => {
    const day = computeUserDay([at('08:00', 'checkin')], today('09:00'));
    expect(secondsAt(day, today('09:00'))).toBe(1 * H);
    expect(secondsAt(day, today('14:30'))).toBe(6.5 * H);
  });

  test('read after the day is over, a row stored open is closed at day_end', () => {
    const day = computeUserDay([at('08:00', 'checkin')], today('09:00'));
    const tomorrow = ctx('2026-11-20', '2026-11-21T08:00:00+01:00');
    expect(secondsAt(day, tomorrow)).toBe(9 * H);
    const late = computeUserDay([at('18:00', 'checkin')], today('19:00'));
    expect(secondsAt(late, tomorrow)).toBe(0);
    // Recomputed the next day, the row closes and gets flagged.
    expect(computeUserDay([at('08:00', 'checkin')], tomorrow)).toMatchObject({ seconds: 9 * H, openSince: null, anomalies: ['missing_checkout'] });
  });
});

describe('a future date (device clock ahead)', () => {
  test('closed intervals count, an open one does not, and it is kept open for later', () => {
    const at = on('2026-11-21');
    const future = ctx('2026-11-21', '2026-11-20T11:00:00+01:00');
    const day = computeUserDay([at('08:00', 'checkin'), at('09:00', 'checkout'), at('10:00', 'checkin')], future);
    expect(day.seconds).toBe(1 * H);
    expect(day.anomalies).toEqual([]);
    expect(day.openSince).toEqual(new Date('2026-11-21T10:00:00+01:00'));
    expect(secondsAt(day, future)).toBe(1 * H);
    expect(secondsAt(day, ctx('2026-11-21', '2026-11-21T12:00:00+01:00'))).toBe(3 * H);
  });
});

describe('daylight-saving days in Europe/Paris', () => {
  const asked = '2026-11-20T10:00:00+01:00';
  test.each([
    {
      name: 'fall back (25 h day): 01:30 CEST → 03:30 CET is 3 h',
      date: '2026-10-25', dayEnd: '17:00',
      events: [{ at: new Date('2026-10-25T01:30:00+02:00'), type: 'checkin' }, { at: new Date('2026-10-25T03:30:00+01:00'), type: 'checkout' }],
      seconds: 3 * H, anomalies: [],
    },
    {
      name: 'spring forward (23 h day): 01:30 CET → 03:30 CEST is 1 h',
      date: '2026-03-29', dayEnd: '17:00',
      events: [{ at: new Date('2026-03-29T01:30:00+01:00'), type: 'checkin' }, { at: new Date('2026-03-29T03:30:00+02:00'), type: 'checkout' }],
      seconds: 1 * H, anomalies: [],
    },
    {
      name: 'fall back: open from local midnight, closed at day_end 17:00 is 18 h',
      date: '2026-10-25', dayEnd: '17:00',
      events: [{ at: new Date('2026-10-25T00:00:00+02:00'), type: 'checkin' }],
      seconds: 18 * H, anomalies: ['missing_checkout'],
    },
    {
      name: 'spring forward: open from local midnight, closed at day_end 17:00 is 16 h',
      date: '2026-03-29', dayEnd: '17:00',
      events: [{ at: new Date('2026-03-29T00:00:00+01:00'), type: 'checkin' }],
      seconds: 16 * H, anomalies: ['missing_checkout'],
    },
    {
      name: 'day_end inside the gap (02:30) closes at the jump (03:00 CEST)',
      date: '2026-03-29', dayEnd: '02:30',
      events: [{ at: new Date('2026-03-29T01:30:00+01:00'), type: 'checkin' }],
      seconds: 0.5 * H, anomalies: ['missing_checkout'],
    },
    {
      name: 'the whole 25 h day',
      date: '2026-10-25', dayEnd: '17:00',
      events: [{ at: new Date('2026-10-25T00:00:00+02:00'), type: 'checkin' }, { at: new Date('2026-10-25T23:59:59+01:00'), type: 'checkout' }],
      seconds: 25 * H - 1, anomalies: [],
    },
  ] as Array<{ name: string; date: string; dayEnd: string; events: AttendanceEvent[]; seconds: number; anomalies: string[] }>)(
    '$name',
    ({ date, dayEnd, events, seconds, anomalies }) => {
      const day = computeUserDay(events, ctx(date, asked, dayEnd));
      expect(day.seconds).toBe(seconds);
      expect(day.anomalies).toEqual(anomalies);
    },
  );
});

describe('events across midnight', () => {
  test('23:00 check-in and 01:00 check-out fall on two local days, each anomalous', () => {
    const events = [
      { at: new Date('2026-11-18T23:00:00+01:00'), type: 'checkin' as const },
      { at: new Date('2026-11-19T01:00:00+01:00'), type: 'checkout' as const },
    ];
    const byDate = groupByLocalDate(events, TZ);
    expect([...byDate.keys()]).toEqual(['2026-11-18', '2026-11-19']);
    const asked = '2026-11-20T10:00:00+01:00';
    // Opened after day_end 17:00: flagged, not counted.
    expect(computeUserDay(byDate.get('2026-11-18')!, ctx('2026-11-18', asked))).toMatchObject({ seconds: 0, anomalies: ['missing_checkout'] });
    expect(computeUserDay(byDate.get('2026-11-19')!, ctx('2026-11-19', asked))).toMatchObject({ seconds: 0, anomalies: ['orphan_checkout'] });
  });

  test('the same pair seen the next morning: yesterday is closed, today has an orphan', () => {
    const asked = '2026-11-19T08:00:00+01:00';
    const day = computeUserDay([{ at: new Date('2026-11-19T01:00:00+01:00'), type: 'checkout' }], ctx('2026-11-19', asked));
    expect(day).toMatchObject({ seconds: 0, openSince: null, anomalies: ['orphan_checkout'] });
  });
});

describe('a device clock in another offset', () => {
  test('an instant written in +07:00 counts on the Paris date of that instant', () => {
    const events = [
      { at: new Date('2026-11-19T08:00:00+01:00'), type: 'checkin' as const }, // Paris terminal
      { at: new Date('2026-11-19T19:00:00+07:00'), type: 'checkout' as const }, // 13:00 in Paris
      { at: new Date('2026-11-20T03:00:00+07:00'), type: 'checkin' as const }, // 21:00 on the 19th in Paris
      { at: new Date('2026-11-20T08:00:00+07:00'), type: 'checkout' as const }, // 02:00 on the 20th in Paris
    ];
    const byDate = groupByLocalDate(events, TZ);
    expect(byDate.get('2026-11-19')?.length).toBe(3);
    expect(byDate.get('2026-11-20')?.length).toBe(1);
    const asked = '2026-11-21T10:00:00+01:00';
    expect(computeUserDay(byDate.get('2026-11-19')!, ctx('2026-11-19', asked))).toMatchObject({ seconds: 5 * H, anomalies: ['missing_checkout'] });
    expect(computeUserDay(byDate.get('2026-11-20')!, ctx('2026-11-20', asked))).toMatchObject({ seconds: 0, anomalies: ['orphan_checkout'] });
  });

  test('grouping depends on the school zone', () => {
    const events = [{ at: new Date('2026-11-20T03:00:00+07:00'), type: 'checkin' as const }];
    expect([...groupByLocalDate(events, 'Asia/Bangkok').keys()]).toEqual(['2026-11-20']);
    expect([...groupByLocalDate(events, TZ).keys()]).toEqual(['2026-11-19']);
  });
});

// The simulator's pure part: plausible days from a seed, and the figures they must produce.
import { describe, expect, test } from '@jest/globals';
import { localDateOf, localTimeOnDate } from '../../shared/time/zoned.js';
import { expectedDayFigures } from '../../simulator/expected.js';
import { generate, type GenerationInput } from '../../simulator/generate.js';

const TZ = 'Europe/Paris';
const input: GenerationInput = {
  seed: 42, days: ['2026-11-16', '2026-11-17', '2026-11-18'], timezone: TZ,
  userIds: Array.from({ length: 200 }, (_, i) => i + 1), devices: 3, strangerId: 999_999, ticks: ['08:00', '12:00', '17:00'],
};
const localHour = (at: Date) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', hourCycle: 'h23' }).format(at));

describe('generate', () => {
  const run = generate(input);

  test('the same seed gives the same days; another seed other days', () => {
    expect(generate(input)).toEqual(run);
    expect(generate({ ...input, seed: 43 }).events).not.toEqual(run.events);
  });

  test('arrivals in the morning, departures in the afternoon, some pupils absent', () => {
    const firstCheckins = new Map<string, Date>();
    for (const e of run.events) {
      const key = `${e.userId}/${localDateOf(e.at, TZ)}`;
      if (e.type === 'checkin' && e.expect === 'stored' && !firstCheckins.has(key)) firstCheckins.set(key, e.at);
    }
    const hours = [...firstCheckins.values()].map(localHour);
    expect(hours.every((h) => h >= 7 && h <= 8)).toBe(true);
    // A pupil's last check-out of the day is in the afternoon, unless a fever sent them home.
    const days = new Map<string, typeof run.events>();
    for (const e of run.events.filter((x) => x.expect === 'stored')) {
      const key = `${e.userId}/${localDateOf(e.at, TZ)}`;
      days.set(key, [...(days.get(key) ?? []), e]);
    }
    const departures = [...days.values()]
      .filter((events) => !events.some((e) => (e.temperature ?? 0) >= 38) && events.at(-1)!.type === 'checkout' && events.some((e) => e.type === 'checkin'))
      .map((events) => localHour(events.at(-1)!.at));
    expect(departures.length).toBeGreaterThan(400);
    expect(departures.every((h) => h >= 14 && h <= 17)).toBe(true);
    expect(run.counts.absent).toBeGreaterThan(0);
    expect(run.counts.absent).toBeLessThan(run.counts.pupilDays * 0.2);
    expect(run.counts.pupilDays).toBe(600);
  });

  test('a check-out never comes without a check-in, except the counted orphans', () => {
    let orphans = 0;
    const byUserDay = new Map<string, typeof run.events>();
    for (const e of run.events.filter((x) => x.expect === 'stored')) {
      const key = `${e.userId}/${localDateOf(e.at, TZ)}`;
      byUserDay.set(key, [...(byUserDay.get(key) ?? []), e]);
    }
    for (const events of byUserDay.values()) {
      let open = false;
      for (const e of [...events].sort((a, b) => a.at.getTime() - b.at.getTime())) {
        if (e.type === 'checkin') open = true;
        else if (open) open = false;
        else orphans++;
      }
    }
    expect(orphans).toBe(run.counts.orphanCheckouts);
  });

  test('bad rows carry the code the server must reject them with', () => {
    const bad = run.events.filter((e) => e.expect !== 'stored');
    expect(bad.length).toBeGreaterThan(0);
    for (const e of bad) {
      if (e.expect === 'unknown_user') expect(e.userId).toBe(999_999);
      else expect(e).toMatchObject({ expect: 'temperature_out_of_range', temperature: 45.5 });
    }
  });

  test('record ids follow recording order on each device, from 1 without gaps', () => {
    for (let d = 0; d < input.devices; d++) {
      const mine = run.events.filter((e) => e.device === d);
      expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1));
      const times = mine.map((e) => e.at.getTime());
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
  });

  test('offline stretches leave some ticks without a sync', () => {
    const offline = run.devices.flatMap((d) => d.online.flat()).filter((on) => !on).length;
    expect(offline).toBeGreaterThan(0);
    expect(run.devices.every((d) => d.online.length === input.days.length)).toBe(true);
  });
});

describe('expectedDayFigures', () => {
  const at = (date: string, hhmm: string) => localTimeOnDate(date, hhmm, TZ);
  const school = { timezone: TZ, dayEnd: '17:00' };
  const users = [1, 2, 3].map((id) => ({ id, enrolledOn: '2026-11-01', deletedAt: null }));

  test('pairs events with the service rules: > 4 h present, a forgotten check-out closed at day_end, an orphan ignored', () => {
    const { buckets, anomalies } = expectedDayFigures({
      school, users, from: '2026-11-16', to: '2026-11-17', now: new Date('2026-11-23T12:00:00Z'),
      events: [
        { userId: 1, type: 'checkin', at: at('2026-11-16', '08:00') }, { userId: 1, type: 'checkout', at: at('2026-11-16', '16:00') },
        { userId: 2, type: 'checkin', at: at('2026-11-16', '14:00') }, // forgot: 14:00–17:00 is 3 h, absent
        { userId: 3, type: 'checkout', at: at('2026-11-16', '16:00') }, // orphan: ignored, absent
        { userId: 2, type: 'checkin', at: at('2026-11-17', '08:00') }, // forgot: 08:00–17:00, present
      ],
    });
    expect(buckets.map((b) => [b.start, b.present, b.absent, b.total])).toEqual([['2026-11-16', 1, 2, 3], ['2026-11-17', 1, 2, 3]]);
    expect(anomalies).toEqual({ double_checkin: 0, orphan_checkout: 1, missing_checkout: 2 });
  });
});

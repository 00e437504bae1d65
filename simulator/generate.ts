// Plausible school days of check-ins from a seed, pure: arrivals spread over the morning,
// departures over the afternoon, some pupils absent, some out for lunch, some forgetting to
// check out, a few fevers. A check-out never comes without a check-in except on purpose
// (`orphan_checkout`, counted), and a few rows are bad on purpose, each with the code the
// server must reject it with. Which device records what, and when each device is offline,
// is decided here too, so a run is reproducible from its seed.
import type { RowRejectionCode } from '../shared/protocol/codes.js';
import { localTimeOnDate } from '../shared/time/zoned.js';
import { seededRandom, subSeed, type Random } from './random.js';

export interface GenerationRates {
  absent: number;
  lunchOut: number;
  forgetCheckout: number;
  fever: number;
  /** Share of pupil-days with a check-out and no check-in (an absent pupil's), on purpose. */
  orphanCheckout: number;
  /** Per device and day: one bad row (unknown user or temperature out of range). */
  badRow: number;
  /** Per device and day: an offline stretch. */
  offline: number;
}

export const DEFAULT_RATES: GenerationRates = {
  absent: 0.08, lunchOut: 0.1, forgetCheckout: 0.03, fever: 0.01, orphanCheckout: 0.005, badRow: 0.3, offline: 0.3,
};

export interface GenerationInput {
  seed: number;
  /** School-local dates to live, in order. */
  days: readonly string[];
  timezone: string;
  userIds: readonly number[];
  devices: number;
  /** A user id that is not in the school (for `unknown_user` on purpose). */
  strangerId: number;
  /** Sync ticks of a day, local 'HH:MM', in order: the device may sync at each. */
  ticks: readonly string[];
  rates?: Partial<GenerationRates>;
  /** Days the school is closed (a strike, a snow day): nobody comes. */
  closedDays?: readonly string[];
  /** Closed days with an event (a Saturday open day): `eventShare` of the pupils come for the morning. */
  eventDays?: readonly string[];
  eventShare?: number;
}

export type Expectation = 'stored' | RowRejectionCode;

export interface GeneratedEvent {
  device: number;
  /** 1, 2, … per device, in recording order: the device's record_id (plus the device's base). */
  seq: number;
  userId: number;
  type: 'checkin' | 'checkout';
  at: Date;
  temperature: number | null;
  expect: Expectation;
}

export interface DevicePlan {
  /** Per day, per tick: false while the device is offline. */
  online: boolean[][];
}

export interface Generated {
  events: GeneratedEvent[];
  devices: DevicePlan[];
  counts: {
    pupilDays: number; absent: number; lunchOut: number; forgottenCheckouts: number; fevers: number;
    orphanCheckouts: number; badRows: Partial<Record<RowRejectionCode, number>>;
    /** Pupils who came to an event on a closed day. */
    eventAttendees: number;
  };
}

/** A time on `date` around `hhmm` ± `spreadMin` (normal-ish), as an instant. */
function around(date: string, hhmm: string, spreadMin: number, tz: string, rnd: Random): Date {
  const base = localTimeOnDate(date, hhmm, tz).getTime();
  return new Date(base + Math.round(rnd.normal() * spreadMin * 60) * 1000);
}

export function generate(input: GenerationInput): Generated {
  const rates = { ...DEFAULT_RATES, ...input.rates };
  const tz = input.timezone;
  const raw: Array<Omit<GeneratedEvent, 'seq'>> = [];
  const counts: Generated['counts'] = { pupilDays: 0, absent: 0, lunchOut: 0, forgottenCheckouts: 0, fevers: 0, orphanCheckouts: 0, badRows: {}, eventAttendees: 0 };
  const devices: DevicePlan[] = Array.from({ length: input.devices }, () => ({ online: [] }));

  const closed = new Set(input.closedDays ?? []);
  const eventDays = new Set(input.eventDays ?? []);
  for (const date of input.days) {
    const rnd = seededRandom(subSeed(input.seed, 'day', date));
    for (const userId of input.userIds) {
      if (closed.has(date)) continue;
      if (eventDays.has(date)) {
        // An event morning: some pupils come for about two hours, the others stay home.
        if (!rnd.chance(input.eventShare ?? 0.3)) continue;
        counts.eventAttendees++;
        const device = rnd.int(0, input.devices - 1);
        raw.push({ device, userId, type: 'checkin', at: around(date, '09:30', 10, tz, rnd), temperature: rnd.int(361, 371) / 10, expect: 'stored' });
        raw.push({ device, userId, type: 'checkout', at: around(date, '11:30', 10, tz, rnd), temperature: null, expect: 'stored' });
        continue;
      }
      counts.pupilDays++;
      // Pupils mostly use one device a day; now and then they leave through another.
      const inDevice = rnd.int(0, input.devices - 1);
      const outDevice = rnd.chance(0.1) ? rnd.int(0, input.devices - 1) : inDevice;
      if (rnd.chance(rates.absent)) {
        counts.absent++;
        if (rnd.chance(Math.min(1, rates.orphanCheckout / rates.absent))) {
          counts.orphanCheckouts++;
          raw.push({ device: outDevice, userId, type: 'checkout', at: around(date, '16:00', 20, tz, rnd), temperature: null, expect: 'stored' });
        }
        continue;
      }
      const fever = rnd.chance(rates.fever);
      if (fever) counts.fevers++;
      const temperature = (fever ? rnd.int(380, 395) : rnd.int(361, 371)) / 10;
      raw.push({ device: inDevice, userId, type: 'checkin', at: around(date, '08:00', 15, tz, rnd), temperature, expect: 'stored' });
      if (fever) {
        // Sent home: out within the hour, nothing more that day.
        raw.push({ device: inDevice, userId, type: 'checkout', at: around(date, '09:30', 10, tz, rnd), temperature: null, expect: 'stored' });
        continue;
      }
      if (rnd.chance(rates.lunchOut)) {
        counts.lunchOut++;
        raw.push({ device: outDevice, userId, type: 'checkout', at: around(date, '12:00', 10, tz, rnd), temperature: null, expect: 'stored' });
        raw.push({ device: inDevice, userId, type: 'checkin', at: around(date, '13:30', 10, tz, rnd), temperature: null, expect: 'stored' });
      }
      if (rnd.chance(rates.forgetCheckout)) {
        counts.forgottenCheckouts++;
        continue;
      }
      raw.push({ device: outDevice, userId, type: 'checkout', at: around(date, '16:00', 25, tz, rnd), temperature: null, expect: 'stored' });
    }

    for (let d = 0; d < input.devices; d++) {
      const drnd = seededRandom(subSeed(input.seed, 'device', d, date));
      if (drnd.chance(rates.badRow)) {
        const unknown = drnd.chance(0.5);
        const code: RowRejectionCode = unknown ? 'unknown_user' : 'temperature_out_of_range';
        counts.badRows[code] = (counts.badRows[code] ?? 0) + 1;
        raw.push({
          device: d, userId: unknown ? input.strangerId : drnd.pick(input.userIds), type: 'checkin',
          at: around(date, '10:00', 60, tz, drnd), temperature: unknown ? null : 45.5, expect: code,
        });
      }
      // An offline stretch: a run of ticks with no sync; the backlog goes with the next one.
      const online = input.ticks.map(() => true);
      if (drnd.chance(rates.offline)) {
        const start = drnd.int(0, input.ticks.length - 1);
        const length = drnd.int(1, Math.max(1, Math.ceil(input.ticks.length / 2)));
        for (let t = start; t < Math.min(input.ticks.length, start + length); t++) online[t] = false;
      }
      devices[d].online.push(online);
    }
  }

  // Record ids follow recording order on each device.
  raw.sort((a, b) => a.at.getTime() - b.at.getTime());
  const nextSeq = new Array<number>(input.devices).fill(1);
  const events = raw.map((e) => ({ ...e, seq: nextSeq[e.device]++ }));
  return { events, devices, counts };
}

/** The events a device has recorded by `until` and not yet sent (seq above `sentSeq`). */
export function backlog(events: readonly GeneratedEvent[], device: number, sentSeq: number, until: Date): GeneratedEvent[] {
  return events.filter((e) => e.device === device && e.seq > sentSeq && e.at.getTime() <= until.getTime());
}


// The flag catalogue and the RESEND_SINCE window rules, as pure functions, by tables of cases.
import { describe, expect, test } from '@jest/globals';
import { parseFlag } from '../../shared/protocol/flags.js';
import { isLastWindow, resendSummary, resendWindow, windowAt } from '../../shared/protocol/resend.js';

const DAY = 86_400_000;

describe('parseFlag', () => {
  test.each([
    ['FULL_RESYNC', undefined, {}],
    ['FULL_RESYNC', {}, {}],
    ['RESEND_SINCE', { since: '2024-02-29' }, { since: '2024-02-29' }],
    ['SET_SETTINGS', { volume: 7, beep: false, greeting: 'Bonjour' }, { volume: '7', beep: 'false', greeting: 'Bonjour' }],
    ['RESET_SESSION', {}, {}],
  ])('%s %j is accepted as %j', (name, params, expected) => {
    expect(parseFlag(name, params)).toEqual({ ok: true, name, params: expected });
  });

  test.each([
    ['body.name', 'RESYNC', {}],
    ['body.params.since', 'RESEND_SINCE', { since: '2023-02-29' }],
    ['body.params.since', 'RESEND_SINCE', { since: '01/11/2026' }],
    ['body.params.since', 'RESEND_SINCE', { since: '2026-11-01T00:00:00Z' }],
    ['body.params.9lives', 'SET_SETTINGS', { '9lives': 1 }],
    ['body.params.volume', 'SET_SETTINGS', { volume: null }],
    ['body.params.volume', 'SET_SETTINGS', { volume: { level: 1 } }],
    ['body.params', 'SET_SETTINGS', Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, i]))],
    ['body.params', 'REBOOT', { delay: 5 }],
    ['body.params', 'REBOOT', []],
  ])('refused on %s: %s', (field, name, params) => {
    const parsed = parseFlag(name, params);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => e.field)).toContain(field);
  });
});

describe('RESEND_SINCE windows', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const flag = (since: string, progress: Record<string, unknown> | null = null) => ({ name: 'RESEND_SINCE', params: { since }, progress });

  test.each([
    // since, zone, expected window
    ['2026-11-01', 'UTC', '2026-11-01T00:00:00.000Z', '2026-11-23T10:00:00.000Z'],
    ['2026-11-01', 'Asia/Ho_Chi_Minh', '2026-10-31T17:00:00.000Z', '2026-11-23T10:00:00.000Z'],
    ['2026-09-01', 'America/New_York', '2026-09-01T04:00:00.000Z', '2026-10-02T04:00:00.000Z'],
    // Paris leaves summer time on 2026-10-25: the window is 31 × 24 h, not 31 local days.
    ['2026-10-01', 'Europe/Paris', '2026-09-30T22:00:00.000Z', '2026-10-31T22:00:00.000Z'],
  ])('since %s in %s → [%s, %s)', (since, tz, from, to) => {
    expect(resendWindow([flag(since)], now, tz)).toEqual({ file: 'attendances.csv', from, to });
  });

  test('the next window starts where the last covered one ended', () => {
    const progress = { next_from: '2026-10-02T04:00:00.000Z', windows_done: 1 };
    expect(resendWindow([flag('2026-09-01', progress)], now, 'America/New_York')).toEqual({ file: 'attendances.csv', from: '2026-10-02T04:00:00.000Z', to: '2026-11-02T04:00:00.000Z' });
  });

  test.each([
    [0, 31 * DAY, false],
    [0, 31 * DAY - 1, true],
    [0, 0, true],
  ])('a window of %d..%d ms is the last: %s', (from, to, last) => {
    expect(isLastWindow({ from: new Date(from), to: new Date(to) })).toBe(last);
  });

  test('a window never ends before it starts', () => {
    const from = new Date(now.getTime() + 1000);
    expect(windowAt(from, now)).toEqual({ from, to: from });
  });

  test.each([
    // days since the start, windows done, pending → total
    [70, 0, true, 3],
    [30, 0, true, 1],
    [3, 0, true, 1],
    [8, 2, true, 3],
    [8, 3, false, 3],
  ])('%d days to go with %d windows done (pending: %s) → %d in all', (days, done, pending, total) => {
    const from = new Date(now.getTime() - days * DAY).toISOString();
    const summary = resendSummary(flag('2026-01-01', { next_from: from, windows_done: done, rows_received: 4 }), 'UTC', now, pending);
    expect(summary).toEqual({ since: '2026-01-01', next_from: from, windows_done: done, windows_total: total, rows_received: 4 });
  });
});

import { dayRuns } from '../../../shared/time/day-runs.js';

describe('dayRuns: one range read per run of a user\'s days', () => {
  it('joins days up to the gap apart, splits beyond it, whatever the input order', () => {
    const items = [10, 1, 3, 20, 13].map((day) => ({ key: 7, day }));
    expect(dayRuns(items, 3)).toEqual([{ key: 7, from: 1, to: 3 }, { key: 7, from: 10, to: 13 }, { key: 7, from: 20, to: 20 }]);
  });

  it('keeps keys apart and covers every day exactly once', () => {
    const items = [{ key: 1, day: 31 }, { key: 2, day: 32 }, { key: 1, day: 33 }, { key: 1, day: 33 }];
    const runs = dayRuns(items, 2);
    expect(runs).toEqual([{ key: 1, from: 31, to: 33 }, { key: 2, from: 32, to: 32 }]);
    for (const { key, day } of items) expect(runs.filter((r) => r.key === key && r.from <= day && day <= r.to)).toHaveLength(1);
  });

  it('a gap of 0 keeps only the same day together', () => {
    expect(dayRuns([{ key: 'a', day: 2 }, { key: 'a', day: 1 }], 0)).toHaveLength(2);
  });
});

// The dashboard's clock skew cell: a clock off by decades (a device reporting 2100) reads in
// years, not in millions of minutes.
import { expect, test } from '@jest/globals';
import { skew } from '../../web/src/format.js';

test.each([
  [null, '—'], [12, '12 s'], [-420, '−7 min'], [5400, '+90 min'], [3 * 3600, '+3 h'], [-3 * 86_400, '−3 d'],
  [2_335_000_000, '+74 years'], [-63_000_000_000, '−1996 years'],
])('%p seconds read %p', (seconds, text) => {
  expect(skew(seconds)).toBe(text);
});

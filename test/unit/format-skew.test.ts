// The dashboard's clock skew cell: one sign (+ ahead, U+2212 − behind), the two largest units
// (a 13-day skew read "−19160 min"), and years for a clock off by decades (a device reporting
// 2100), written by Intl in the page's locale.
import { beforeAll, expect, test } from '@jest/globals';
import { skew } from '../../web/src/format.js';
import { setFormatLocale } from '../../web/src/intl.js';

beforeAll(() => setFormatLocale('en-GB'));

test.each([
  [null, '—'], [12, '+12 secs'], [-420, '−7 mins'], [5400, '+1 hr 30 mins'], [3 * 3600, '+3 hrs'], [-3 * 86_400, '−3 days'],
  [-(13 * 86_400 + 7 * 3600 + 20 * 60), '−13 days 7 hrs'], [0, '0 secs'],
  [2_335_000_000, '+74 yrs'], [-63_000_000_000, '−1,996 yrs'],
])('%p seconds read %p', (seconds, text) => {
  expect(skew(seconds)).toBe(text);
});

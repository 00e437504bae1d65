// The user-days a write touched (shared/attendance/touched-days.ts): one collector for the v4
// import, the PUSH import and single writes, so each must see the same days.
import { expect, test } from '@jest/globals';
import { TouchedDays } from '../../../shared/attendance/touched-days.js';

const PARIS = { timezone: 'Europe/Paris', dayEnd: '23:00' };
const NOUMEA = { timezone: 'Pacific/Noumea', dayEnd: '18:00' };

test('a day is the local date in its school\'s timezone, counted once', () => {
  const touched = new TouchedDays().school(1, PARIS).school(2, NOUMEA);
  touched.add(1, 7, new Date('2026-11-09T23:30:00Z')); // 00:30 in Paris: the 10th
  touched.add(1, 7, new Date('2026-11-10T08:00:00Z'));
  touched.add(1, 5, new Date('2026-11-10T08:00:00Z'));
  touched.add(2, 9, new Date('2026-11-10T08:00:00Z')); // 19:00 in Nouméa: the 10th
  touched.add(2, 9, new Date('2026-11-10T14:00:00Z')); // 01:00 in Nouméa: the 11th
  expect([...touched.days()]).toEqual([
    { schoolId: 1, userId: 5, date: '2026-11-10' },
    { schoolId: 1, userId: 7, date: '2026-11-10' },
    { schoolId: 2, userId: 9, date: '2026-11-10' },
    { schoolId: 2, userId: 9, date: '2026-11-11' },
  ]);
  expect([...touched.userIds()].sort()).toEqual([5, 7, 9]);
});

test('a school added before its clock is known waits for it; one never given is left out', () => {
  const touched = new TouchedDays();
  touched.add(2, 9, new Date('2026-11-10T14:00:00Z'));
  touched.add(3, 4, new Date('2026-11-10T14:00:00Z'));
  expect(touched.schoolsWithoutClock()).toEqual([2, 3]);
  touched.school(2, NOUMEA);
  expect([...touched.days()]).toEqual([{ schoolId: 2, userId: 9, date: '2026-11-11' }]);
  expect(touched.clocks()).toEqual(new Map([[2, NOUMEA]]));
});

test('a fork merges back, with only the users named', () => {
  const touched = new TouchedDays().school(1, PARIS);
  const fork = touched.fork();
  fork.add(1, 7, new Date('2026-11-10T08:00:00Z'));
  fork.add(1, 8, new Date('2026-11-10T08:00:00Z'));
  expect([...touched.days()]).toEqual([]);
  touched.merge(fork, new Set([8]));
  expect([...touched.days()]).toEqual([{ schoolId: 1, userId: 8, date: '2026-11-10' }]);
});

test('a large fork merged into days already held counts each day once, with or without a filter', () => {
  const touched = new TouchedDays().school(1, PARIS);
  touched.add(1, 3, new Date('2026-11-10T08:00:00Z'));
  const fork = touched.fork();
  for (let user = 1; user <= 20_000; user++) fork.add(1, user, new Date('2026-11-10T08:00:00Z'));
  const filtered = touched.fork();
  filtered.merge(fork, new Set([2, 3, 20_000]));
  touched.merge(fork);
  expect([...touched.days()]).toHaveLength(20_000);
  expect([...filtered.days()].map((d) => d.userId)).toEqual([2, 3, 20_000]);
});

test('many rows spill into the array and still count each day once', () => {
  const touched = new TouchedDays().school(1, PARIS);
  for (let i = 0; i < 30_000; i++) touched.add(1, 1 + (i % 10_000), new Date(Date.UTC(2026, 10, 10, 8, i % 60)));
  expect([...touched.days()]).toHaveLength(10_000);
});

test('a mark\'s local day joins the same set: once with the attendance of that day, waiting for its school\'s clock like one', () => {
  const touched = new TouchedDays().school(1, PARIS);
  touched.add(1, 7, new Date('2026-11-09T23:30:00Z')); // 00:30 in Paris: the 10th
  touched.addDay(1, 7, '2026-11-10');
  touched.addDay(1, 7, '2026-11-12');
  touched.addDay(2, 9, '2026-11-11');
  expect(touched.schoolsWithoutClock()).toEqual([2]);
  touched.school(2, NOUMEA);
  expect([...touched.days()]).toEqual([
    { schoolId: 1, userId: 7, date: '2026-11-10' },
    { schoolId: 1, userId: 7, date: '2026-11-12' },
    { schoolId: 2, userId: 9, date: '2026-11-11' },
  ]);
});

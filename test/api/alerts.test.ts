// /api/alerts: the fever alerts a school admin sees, newest first, paged, only their school's.
import { describe, expect, test } from '@jest/globals';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();


async function aSchoolWithAdmin() {
  const school = await aSchool(suite.db, { fever_threshold: 37.5 });
  const token = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  return { school, token, user: await aUser(suite.db, school.id, { name: `Pupil of ${school.id}` }) };
}
const checkin = (token: string, userId: number, at: string, temperature: number) =>
  http(suite.url, 'POST', '/api/attendances', { token, body: { user_id: userId, type: 'checkin', occurred_at: at, temperature } });

describe('GET /api/alerts', () => {
  test('lists fever check-ins newest first with user, time, temperature; none below the threshold', async () => {
    const { school, token, user } = await aSchoolWithAdmin();
    await checkin(token, user.id, '2025-03-04T08:00:00Z', 38.2);
    await checkin(token, user.id, '2025-03-05T08:00:00Z', 36.6);
    await checkin(token, user.id, '2025-03-06T08:00:00Z', 39.0);
    const res = await http(suite.url, 'GET', '/api/alerts', { token });
    expect(res.status).toBe(200);
    expect(res.body.items.map((a: Record<string, unknown>) => [a.occurred_at, a.temperature, a.user_name, a.school_id, a.source])).toEqual([
      ['2025-03-06T08:00:00.000Z', 39, `Pupil of ${school.id}`, school.id, 'attendance'],
      ['2025-03-04T08:00:00.000Z', 38.2, `Pupil of ${school.id}`, school.id, 'attendance'],
    ]);
  });

  test('from/to bound the time and pages follow each other without gaps or repeats', async () => {
    const { token, user } = await aSchoolWithAdmin();
    for (let d = 10; d < 17; d++) await checkin(token, user.id, `2025-03-${d}T08:00:00Z`, 38);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/alerts?limit=2&from=2025-03-11T00:00:00Z&to=2025-03-16T00:00:00Z${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await http(suite.url, 'GET', q, { token });
      seen.push(...page.body.items.map((a: { occurred_at: string }) => a.occurred_at.slice(0, 10)));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['2025-03-15', '2025-03-14', '2025-03-13', '2025-03-12', '2025-03-11']);
  });

  test("a school admin never sees another school's alerts, even by asking for its id", async () => {
    const a = await aSchoolWithAdmin();
    const b = await aSchoolWithAdmin();
    await checkin(b.token, b.user.id, '2025-03-04T08:00:00Z', 39.5);
    expect((await http(suite.url, 'GET', '/api/alerts', { token: a.token })).body.items.every((x: { school_id: number }) => x.school_id === a.school.id)).toBe(true);
    expect((await http(suite.url, 'GET', `/api/alerts?school_id=${b.school.id}`, { token: a.token })).body.items).toEqual([]);
    expect((await http(suite.url, 'GET', `/api/alerts?school_id=${b.school.id}`, { token: b.token })).body.items).toHaveLength(1);
  });

  test('a forged cursor or a reversed range is a 422 problem', async () => {
    const { token } = await aSchoolWithAdmin();
    expect((await http(suite.url, 'GET', '/api/alerts?cursor=bm9wZQ', { token })).status).toBe(422);
    const reversed = await http(suite.url, 'GET', '/api/alerts?from=2025-03-05T00:00:00Z&to=2025-03-04T00:00:00Z', { token });
    expect(reversed.status).toBe(422);
    expect(reversed.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });
});

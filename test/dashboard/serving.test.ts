// How the api serves the dashboard (index.html revalidated, hashed assets cached for good,
// the API untouched), and the demo school `npm start` creates looks alive on it.
import { describe, expect, test } from '@jest/globals';
import { createDemoData } from '../../db/startup/bootstrap.js';
import { aStaff, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';

const suite = useSuite();


describe('the dashboard files at /', () => {
  test('index.html is revalidated on every load and names hashed assets cached for a year', async () => {
    const page = await fetch(`${suite.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/app-[A-Z0-9]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const res = await fetch(`${suite.url}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  test('unknown paths stay problem+json 404s, and the build stamp is not served', async () => {
    for (const path of ['/nope.js', '/.stamp', '/api/nope']) {
      const res = await http(suite.url, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });
});

describe('the demo school', () => {
  test('has four weeks of figures, fever alerts and a device that needs attention', async () => {
    const demo = (await createDemoData(suite.db, { demoAdminPassword: 'demo password 123' }))!;
    expect(demo).not.toBeNull();
    const token = await loginAs(suite.url, { email: demo.schoolAdmin.email, password: 'demo password 123' });
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 27 * 86_400_000).toISOString().slice(0, 10);
    const figures = await http(suite.url, 'GET', `/api/attendances/aggregate/school/${demo.school.id}?period=day&from=${from}&to=${to}`, { token });
    const schoolDays = figures.body.buckets.filter((b: { school_day: boolean; start: string }) => b.school_day && b.start < to);
    expect(schoolDays.length).toBeGreaterThan(10);
    expect(schoolDays.every((b: { present: number; total: number }) => b.present > b.total / 2)).toBe(true);
    const alerts = await http(suite.url, 'GET', `/api/alerts?school_id=${demo.school.id}`, { token });
    expect(alerts.body.items.length).toBeGreaterThanOrEqual(1);
    const devices = await http(suite.url, 'GET', `/api/devices?school_id=${demo.school.id}`, { token });
    const byName = Object.fromEntries(devices.body.items.map((d: { name: string; attention_reasons: string[] }) => [d.name, d.attention_reasons]));
    expect(byName).toEqual({ 'Main entrance terminal': [], 'Teacher phone': ['silent', 'clock_off'] });
    // A backoffice user sees the phone in the attention list.
    const bo = await loginAs(suite.url, await aStaff(suite.db, 'backoffice'));
    const attention = await http(suite.url, 'GET', '/api/devices?attention=true', { token: bo });
    expect(attention.body.items.map((d: { name: string }) => d.name)).toContain('Teacher phone');
  });
});

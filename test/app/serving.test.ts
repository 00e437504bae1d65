// How the api serves the app for schools at /app/: its page with a CSP that lets it use the
// camera and its own service worker and nothing else; the files revalidated or cached for good;
// a service worker whose precache list is exactly the build's files. And its message
// catalogues: French has every key of English, with a non-breaking space before a colon.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { en } from '../../app/src/locales/en.js';
import { fr } from '../../app/src/locales/fr.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { MOBILE_APP_DIR } from '../../runtime/compiled.js';

const suite = useSuite();

describe('the app files at /app/', () => {
  test('/app is sent to /app/, whose page has the app\'s own CSP and Permissions-Policy and is revalidated', async () => {
    const bare = await fetch(`${suite.url}/app`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/app/');
    const page = await fetch(`${suite.url}/app/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const rule of ["script-src 'self'", "worker-src 'self'", "connect-src 'self'", "manifest-src 'self'", 'mediastream:', "frame-ancestors 'none'"]) expect(csp).toContain(rule);
    expect(csp).not.toContain('unsafe');
    expect(page.headers.get('permissions-policy')).toContain('camera=(self)');
    const html = await page.text();
    expect(html).toContain('<link rel="manifest" href="./manifest.webmanifest">');
    const assets = [...html.matchAll(/(?:src|href)="\.\/(main-[A-Z0-9]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const res = await fetch(`${suite.url}/app/${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  test('sw.js is revalidated, may control /app/, and precaches every file of the build but itself and the source maps', async () => {
    const sw = await fetch(`${suite.url}/app/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    expect(sw.headers.get('service-worker-allowed')).toBe('/app/');
    const body = await sw.text();
    const listed = [...body.matchAll(/\{url:"([^"]+)",revision:(?:"[0-9a-f]+"|null)\}/g)].map((m) => m[1]).sort();
    const built = fs.readdirSync(MOBILE_APP_DIR).filter((f) => !f.startsWith('.') && !f.endsWith('.map') && !f.endsWith('.tmp') && f !== 'sw.js').sort();
    expect(listed).toEqual(built);
    const manifest = await fetch(`${suite.url}/app/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    const json = await manifest.json() as { start_url: string; scope: string; display: string; icons: Array<{ src: string; sizes: string }> };
    expect(json).toMatchObject({ start_url: './', scope: './', display: 'standalone' });
    expect(json.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of json.icons) expect((await fetch(`${suite.url}/app/${icon.src}`)).status).toBe(200);
  });

  test('the build stamp and unknown files are problem+json 404s; the dashboard stays at /', async () => {
    for (const p of ['/app/.stamp', '/app/nope.js']) {
      const res = await http(suite.url, 'GET', p);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect(await (await fetch(`${suite.url}/`)).text()).toMatch(/src="\/app-[A-Z0-9]+\.js"/);
  });
});

describe('the app\'s message catalogues', () => {
  const keys = (value: unknown, prefix = ''): string[] => (!value || typeof value !== 'object' ? [prefix]
    : Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k)).sort());
  /** Every sentence of a catalogue, functions called with sample arguments. */
  const sentences = (value: unknown): string[] => {
    if (typeof value === 'string') return [value];
    if (typeof value === 'function') return [String((value as (...a: unknown[]) => unknown)(2, 'x', 1, 1))];
    return value && typeof value === 'object' ? Object.values(value).flatMap(sentences) : [];
  };

  test('French has the keys of English, and a non-breaking space (never a plain one, never none) before a colon', () => {
    expect(keys(fr)).toEqual(keys(en));
    const french = sentences(fr).filter((s) => s.includes(':') && !s.includes('://'));
    expect(french.length).toBeGreaterThan(10);
    expect(french.filter((s) => /[^\u00a0]:/.test(s))).toEqual([]);
    expect(fr.waiting(3)).toBe('3 enregistrements attendent d\u2019être envoyés');
    expect(fr.waiting(1)).toBe('1 enregistrement attend d\u2019être envoyé');
    expect(en.waiting(1)).toBe('1 record waits to be sent');
    expect(path.basename(MOBILE_APP_DIR)).toBe('dist');
  });
});

// The SDK in a real browser (Debian's Chromium): bundled for the browser, IndexedDB through Dexie,
// fetch, FormData, crypto.subtle for the ETag, Web Locks. A page on the api's origin enrols,
// queues check-ins and a mark, goes offline, comes back, reloads: every row stored once.
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage } from '../support/browser.js';
import { ROOT } from '../support/processes.js';
import { useSuite } from '../support/suite.js';
import { aSchoolWithDevice, clock, storedFor } from './helpers.js';

const suite = useSuite({ worker: true });
let browser: Browser;
let bundle: string;
beforeAll(async () => {
  browser = await launchBrowser();
  const out = await esbuild.build({
    stdin: {
      contents: "import { SyncClient } from './sdk/src/index.ts'; import { indexedDbStorage } from './sdk/src/adapters/indexeddb.ts'; Object.assign(globalThis, { sdk: { SyncClient, indexedDbStorage } });",
      resolveDir: ROOT, loader: 'ts',
    },
    bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'error',
  });
  bundle = out.outputFiles[0].text;
});
afterAll(async () => {
  await browser?.close();
});

test('a page enrols, syncs, survives offline and a reload, and each row is stored once', async () => {
  const { users, device, enrolment } = await aSchoolWithDevice(suite.db, suite.url);
  const watched = await openPage(browser);
  const { page } = watched;
  await page.route(`${suite.url}/sdk-test/**`, (route) => {
    const js = route.request().url().endsWith('.js');
    return route.fulfill({ status: 200, contentType: js ? 'text/javascript' : 'text/html', body: js ? bundle : '<!doctype html><title>sdk</title><script src="sdk.js"></script>' });
  });
  await page.goto(`${suite.url}/sdk-test/index.html`);

  type Args = { enrolment: typeof enrolment; users: number[]; today: string };
  const first = await page.evaluate(async ({ enrolment: e, users: u, today }: Args) => {
    const { SyncClient, indexedDbStorage } = (globalThis as any).sdk;
    const client = await SyncClient.open({ storage: indexedDbStorage('browser-app') });
    await client.enrol(e);
    await client.checkIn({ userId: u[0], type: 'checkin' });
    await client.checkIn({ userId: u[1], type: 'checkin' });
    await client.mark({ userId: u[2], date: today, mark: 'late', period: 'P1' });
    const report = await client.sync();
    return { ok: report.ok, error: report.error, waiting: client.state.waiting, roster: client.roster().length };
  }, { enrolment, users: users.map((u) => u.id), today: clock.today });
  expect(first).toEqual({ ok: true, waiting: 0, roster: users.length });

  // Offline: rows wait durably; the sync says why.
  await page.context().setOffline(true);
  const offline = await page.evaluate(async ({ users: u }: Pick<Args, 'users'>) => {
    const { SyncClient, indexedDbStorage } = (globalThis as any).sdk;
    const client = await SyncClient.open({ storage: indexedDbStorage('browser-app'), waitScale: 0.01 });
    await client.checkIn({ userId: u[3], type: 'checkin' });
    const report = await client.sync();
    return { code: report.error?.code, waiting: client.state.waiting, online: client.state.online };
  }, { users: users.map((u) => u.id) });
  expect(offline).toEqual({ code: 'network_error', waiting: 1, online: false });

  // Back online, after a reload: the queued row goes, once.
  await page.context().setOffline(false);
  await page.reload();
  const after = await page.evaluate(async () => {
    const { SyncClient, indexedDbStorage } = (globalThis as any).sdk;
    const client = await SyncClient.open({ storage: indexedDbStorage('browser-app') });
    const before = client.state.waiting;
    const report = await client.sync();
    return { before, ok: report.ok, waiting: client.state.waiting, enrolled: client.enrolled };
  });
  expect(after).toEqual({ before: 1, ok: true, waiting: 0, enrolled: true });
  expect(await storedFor(suite.db, device.id)).toEqual({ attendances: 3, distinctAttendances: 3, marks: 1, distinctMarks: 1 });
  // The offline sync's failed fetch is the only console error the page may show.
  expect(watched.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(e))).toEqual([]);
  await watched.close();
}, 120_000);

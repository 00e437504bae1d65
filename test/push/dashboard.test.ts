// The PUSH terminals tab in a real Chromium: a terminal that called first waits for approval
// with its model, firmware and address; backoffice approves it into the school in one click,
// then sees it in the school's list with its last commands and the users it lacks.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { PushTerminal, parseCommands } from '../../simulator/push-client.js';
import type { Page } from 'playwright-core';
import { launchBrowser, openPage } from '../support/browser.js';
import { connectTestDatabase } from '../support/database.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startStack, type TestStack } from '../support/services.js';

let stack: TestStack;
let db: ReturnType<typeof connectTestDatabase>;
let browser: Browser;
beforeAll(async () => {
  stack = await startStack({ worker: true, env: { PUSH_ROSTER_SECONDS: '1' } });
  db = connectTestDatabase(stack.databaseUrl);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await db.close();
  await stack.stop();
});

const ENGLISH = { email: 'Email', password: 'Password', signIn: 'Sign in', school: 'School' };
const FRENCH = { email: 'E-mail', password: 'Mot de passe', signIn: 'Se connecter', school: 'École' };

/** Signs in as `who` in the page's language and picks the school. */
async function signIn(page: Page, who: { email: string; password: string }, schoolId: number, words: typeof ENGLISH): Promise<void> {
  await page.goto(stack.url);
  await page.getByLabel(words.email).fill(who.email);
  await page.getByLabel(words.password).fill(who.password);
  await page.getByRole('button', { name: words.signIn }).click();
  await page.locator('#panel[data-ready="true"]').waitFor();
  await page.getByLabel(words.school).selectOption(String(schoolId));
}

test('backoffice approves a pending terminal and follows its commands and users', async () => {
  const school = await aSchool(db.db, { name: 'Hillside School', timezone: 'UTC' });
  await aUser(db.db, school.id, { badge: '11', name: 'Ada' });
  const backoffice = await aStaff(db.db, 'backoffice');
  const sn = 'DASH0001';
  const terminal = new PushTerminal(stack.url, sn);
  await terminal.handshake();
  await terminal.upload('options', '~DeviceName=MB460,FWVersion=Ver 6.4.1');

  const w = await openPage(browser);
  const { page } = w;
  try {
    await signIn(page, backoffice, school.id, ENGLISH);
    await page.getByRole('tab', { name: 'PUSH terminals' }).click();
    const pending = page.locator('table', { has: page.locator('caption', { hasText: 'Terminals waiting for approval' }) }).locator('tbody tr', { hasText: sn });
    await expect(pending.textContent()).resolves.toMatch(/MB460.*Ver 6\.4\.1.*127\.0\.0\.1/);
    await pending.getByRole('button', { name: 'Approve into Hillside School' }).click();

    // Approved: the terminal syncs, gets the roster as a command and answers it.
    const commands = await (async () => {
      for (let i = 0; i < 50; i++) {
        const polled = parseCommands((await terminal.poll()).body);
        if (polled.length > 0) return polled;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no roster command');
    })();
    expect(commands.map((c) => c.command)).toEqual(['DATA UPDATE USERINFO PIN=11\tName=Ada\tPri=0']);
    await terminal.results([`ID=${commands[0].id}&Return=0&CMD=DATA`]);

    await page.getByRole('tab', { name: 'Devices' }).click();
    await page.getByRole('tab', { name: 'PUSH terminals' }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    const row = page.locator('table', { has: page.locator('caption', { hasText: 'PUSH terminals of Hillside School' }) }).locator('tbody tr');
    // The roster command succeeded: the terminal holds Ada now, the tab says so (it read "1 difference" until the next OPERLOG).
    await expect(row.textContent()).resolves.toMatch(new RegExp(`SN ${sn}.*succeeded C:${commands[0].id} DATA UPDATE USERINFO PIN=11 → 0.*same as roster`));
    // Its last contact is the call it made while pending, not "never"; the Devices tab does not call it "never synced".
    expect(await row.locator('td').nth(1).textContent()).not.toBe('never');
    await page.getByRole('tab', { name: 'Devices' }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    const deviceRow = page.locator('tbody tr', { hasText: `MB460 ${sn}` });
    await expect(deviceRow.textContent()).resolves.toContain('PUSH terminal: no sync channels');
    expect(w.errors).toEqual([]);
  } finally {
    await w.close();
  }

  // In French, the command statuses and differences are French too.
  const french = await openPage(browser, undefined, 'fr-FR');
  try {
    const { page } = french;
    await signIn(page, backoffice, school.id, FRENCH);
    await page.getByRole('tab', { name: 'Terminaux PUSH' }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    await aUser(db.db, school.id, { badge: '12', name: 'Grace' }); // not on the terminal yet
    await page.getByRole('tab', { name: 'Terminaux PUSH' }).click();
    const row = page.locator('table', { has: page.locator('caption', { hasText: 'Terminaux PUSH de Hillside School' }) }).locator('tbody tr');
    await expect(row.textContent()).resolves.toMatch(/réussie C:\d+ DATA UPDATE USERINFO PIN=11 → 0.*12 absent du terminal/);
    expect(french.errors).toEqual([]);
  } finally {
    await french.close();
  }
});

test('users a terminal holds but the roster lacks are ticked and added to the roster', async () => {
  const school = await aSchool(db.db, { name: 'Riverside School', timezone: 'UTC' });
  const backoffice = await aStaff(db.db, 'backoffice');
  const sn = 'DASH0002';
  const registered = await http(stack.url, 'POST', '/api/push/terminals', { token: await loginAs(stack.url, backoffice), body: { serial_number: sn, school_id: school.id, name: 'Side gate' } });
  expect(registered.status).toBe(201);
  const terminal = new PushTerminal(stack.url, sn);
  await terminal.handshake();
  expect((await terminal.upload('OPERLOG', 'USER PIN=901\tName=Ada Lovelace\tPri=0\nUSER PIN=902\tName=Alan Turing\tPri=0\n')).body).toBe('OK: 2');

  const french = await openPage(browser, undefined, 'fr-FR');
  try {
    const { page } = french;
    await signIn(page, backoffice, school.id, FRENCH);
    await page.getByRole('tab', { name: 'Terminaux PUSH' }).click();
    await page.locator('#panel[data-ready="true"]').waitFor();
    const row = page.locator('table', { has: page.locator('caption', { hasText: 'Terminaux PUSH de Riverside School' }) }).locator('tbody tr');
    await expect(row.textContent()).resolves.toMatch(/901 absent de la liste, 902 absent de la liste/);
    await row.getByLabel('901 Ada Lovelace').check();
    await row.getByRole('button', { name: 'Ajouter à la liste' }).click();
    await page.getByText('1 utilisateur ajouté à la liste').waitFor();
    await row.getByLabel('901 Ada Lovelace').waitFor({ state: 'detached' });
    await expect(row.textContent()).resolves.toMatch(/1 différence\s: 902 absent de la liste/);
    expect(await db.db.selectFrom('users').select(['badge', 'name']).where('school_id', '=', school.id).execute()).toEqual([{ badge: '901', name: 'Ada Lovelace' }]);
    expect(french.errors).toEqual([]);
  } finally {
    await french.close();
  }
});

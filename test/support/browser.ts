// Browser tests drive the system's Chromium through playwright-core (no bundled browser:
// `npm test` installs Debian's chromium first when it can, tools/test-deps.sh). Every page records its console errors and uncaught
// exceptions, which a test expects to stay empty.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

function chromiumPath(): string {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium']) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium not found: install it (apt-get install chromium, as tools/test-deps.sh does) or set CHROMIUM_PATH');
  }
}

/**
 * `lang` is the browser's own language, which draws native controls (a date input shows
 * dd/mm/yyyy in en-GB and fr-FR): tests pair it with the context's locale (openPage). On
 * Linux Chromium takes it from LANGUAGE, not --lang, and needs Debian's chromium-l10n for
 * any but en-US (without it, dates in inputs stay mm/dd/yyyy; nothing asserts on them).
 */
export async function launchBrowser(lang = 'en-GB', extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    env: { ...process.env, LANGUAGE: lang.replace('-', '_') },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A page in a fresh context. `locale` is the browser's language (navigator.language, the
 * dashboard's default language): en-GB unless a test asks for another.
 */
export async function openPage(browser: Browser, viewport = { width: 1280, height: 800 }, locale = 'en-GB'): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale, timezoneId: 'UTC' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  return { page, errors, close: () => context.close() };
}

/** With SCREENSHOTS=<dir> (e.g. docs/screenshots), tests save the views they reach there. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}

const require = createRequire(import.meta.url);
let axeSource: string | null = null;

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: string[] }

/**
 * The serious and critical accessibility violations axe-core finds on the page as it is now
 * (its script injected from node_modules: no network). Answers them as `id (impact): help —
 * selectors`, so that a failing expectation says what to fix.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  axeSource ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the devtools protocol, which the page's Content-Security-Policy does not restrict.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v: AxeViolation) => v.impact === 'serious' || v.impact === 'critical')
    .map((v: AxeViolation) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 5).join(', ')}`);
}

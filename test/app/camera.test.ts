// Enrolment by the camera: Chromium's fake camera films the enrolment QR code (a Y4M frame drawn
// here from the link, as the dashboard's QR code would show it), the app reads it with jsQR and
// enrols, with nothing typed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import QRCode from 'qrcode';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { aSchool, aStaff, aUser, loginAs } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { useSuite } from '../support/suite.js';
import { parseEnrolUri } from '../../shared/devices/enrol-uri.js';
import { en as app } from '../../app/src/locales/en.js';

const suite = useSuite({ worker: true, env: { DATAMART_EXPORT_CRON: 'off' } });
let browser: Browser;
let dir: string;
let link: string;

/** One 640×480 4:2:0 frame: the QR code of `text`, 6 pixels a module, black on white. */
function qrFrame(text: string): Buffer {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const [w, h, scale, margin] = [640, 480, 6, 4];
  const luma = Buffer.alloc(w * h, 235);
  const side = (modules.size + 2 * margin) * scale;
  const [x0, y0] = [Math.floor((w - side) / 2), Math.floor((h - side) / 2)];
  for (let r = 0; r < modules.size; r++) {
    for (let c = 0; c < modules.size; c++) {
      if (!modules.get(r, c)) continue;
      for (let dy = 0; dy < scale; dy++) luma.fill(16, (y0 + (r + margin) * scale + dy) * w + x0 + (c + margin) * scale, (y0 + (r + margin) * scale + dy) * w + x0 + (c + margin + 1) * scale);
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\nFRAME\n`), luma, chroma]);
}

beforeAll(async () => {
  const school = await aSchool(suite.db, { name: 'École du Parc' });
  await aUser(suite.db, school.id, { name: 'Léa Petit', badge: 'P0001' });
  const token = await loginAs(suite.url, await aStaff(suite.db, 'school_admin', school.id));
  link = (await http(suite.url, 'POST', '/api/devices', { token, body: { school_id: school.id, name: 'Camera phone', kind: 'mobile' } })).body.enrol_uri;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'app-camera-'));
  fs.writeFileSync(path.join(dir, 'qr.y4m'), qrFrame(link));
  browser = await launchBrowser('en-GB', ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${path.join(dir, 'qr.y4m')}`]);
});
afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the app enrols from the QR code its camera sees', async () => {
  const context = await browser.newContext({ viewport: { width: 412, height: 860 }, locale: 'en-GB' });
  try {
    await context.grantPermissions(['camera'], { origin: suite.url });
    const page = await context.newPage();
    await page.goto(`${suite.url}/app/`);
    await page.getByRole('button', { name: app.scanQr }).click();
    await page.getByText(app.enrolledAs(parseEnrolUri(link)!.deviceId)).waitFor({ timeout: 20_000 });
    await page.locator('button.pupil', { hasText: 'Léa Petit' }).waitFor();
    // The camera is off once the code is read.
    expect(await page.locator('video').count()).toBe(0);
  } finally {
    await context.close();
  }
});

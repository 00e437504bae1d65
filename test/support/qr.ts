// The enrolment QR code a dashboard dialog shows, read as a phone would: decoded with jsQR from
// the pixels the page drew (not from the link beside it).
import jsQRModule from 'jsqr';
import type { Page } from 'playwright-core';

// jsqr is CommonJS: its default export is the module's function at run time, typed as a namespace.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule.default }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

/** The text of the QR code in the open dialog, or null when none can be read. */
export async function readDialogQr(page: Page): Promise<string | null> {
  const img = page.locator('dialog[open] .enrol-qr img');
  await img.waitFor();
  const pixels = await img.evaluate(async (el: HTMLImageElement) => {
    await el.decode();
    const canvas = document.createElement('canvas');
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(el, 0, 0);
    const data = g.getImageData(0, 0, canvas.width, canvas.height);
    // As base64: an array of half a million numbers takes the protocol half a minute to carry.
    let bytes = '';
    for (let i = 0; i < data.data.length; i += 0x8000) bytes += String.fromCharCode(...data.data.subarray(i, i + 0x8000));
    return { width: data.width, height: data.height, rgba: btoa(bytes) };
  });
  return jsQR(new Uint8ClampedArray(Buffer.from(pixels.rgba, 'base64')), pixels.width, pixels.height)?.data ?? null;
}

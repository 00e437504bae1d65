// Reads a QR code from the camera: the back camera's stream in a <video>, one frame at a time
// drawn to a canvas and decoded by jsQR, until a code is read or the scan is stopped. The
// stream is stopped either way (the camera light goes off).
import jsQRModule from 'jsqr';
import { h } from './dom.js';
import { m } from './i18n.js';

// jsqr is CommonJS: its default export is the function at run time, typed as a namespace.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule.default }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

export interface Scan {
  /** The scanner's elements: the video and a button that stops it. */
  element: HTMLElement;
  /** The first code read, or null when stopped or when the camera is not available. */
  result: Promise<string | null>;
  stop(): void;
}

export function scanQr(): Scan {
  const video = h('video', { playsinline: true, muted: true, class: 'scanner-video', 'aria-label': m.cameraHint });
  let stopped = false;
  let stream: MediaStream | null = null;
  let settle: (text: string | null) => void = () => {};
  const stop = () => {
    stopped = true;
    for (const track of stream?.getTracks() ?? []) track.stop();
    element.remove();
    settle(null);
  };
  const element = h('div', { class: 'scanner' }, h('p', {}, m.cameraHint), video,
    h('button', { type: 'button', class: 'secondary', onclick: stop }, m.stopScan));
  const result = new Promise<string | null>((resolve) => {
    settle = resolve;
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      } catch {
        resolve(null);
        return;
      }
      if (stopped) { stop(); return; }
      video.srcObject = stream;
      await video.play().catch(() => {});
      const canvas = document.createElement('canvas');
      const g = canvas.getContext('2d', { willReadFrequently: true })!;
      const frame = () => {
        if (stopped) return;
        if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth > 0) {
          canvas.width = video.videoWidth;
          canvas.height = video.videoHeight;
          g.drawImage(video, 0, 0);
          const image = g.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
          if (code?.data) {
            const text = code.data;
            settle = () => {};
            stop();
            resolve(text);
            return;
          }
        }
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    })();
  });
  return { element, result, stop };
}

export function cameraAvailable(): boolean {
  return typeof navigator.mediaDevices?.getUserMedia === 'function';
}

/**
 * The button that opens a scanner in `area` (one at a time) and hands what it read to `onCode`
 * (null: stopped, or no camera access); no button without a camera. `stop()` closes an open scan.
 */
export function scanButton(label: string, area: HTMLElement, onCode: (text: string | null) => void): { button: HTMLButtonElement | null; stop(): void } {
  let scan: Scan | null = null;
  const button = cameraAvailable() ? h('button', {
    type: 'button', class: 'secondary',
    onclick: async () => {
      if (scan) return;
      scan = scanQr();
      area.append(scan.element);
      const text = await scan.result;
      scan = null;
      onCode(text);
    },
  }, label) : null;
  return { button, stop: () => scan?.stop() };
}
